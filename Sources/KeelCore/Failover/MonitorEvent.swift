/// One observation fed to `FailoverMachine.handle`. Each carries `now`, seconds on the daemon's
/// monotonic clock: the machine never reads a clock.
public enum MonitorEvent: Sendable, Equatable {
    /// The result of an upstream check (`connection_check_type`), asked for by
    /// `MonitorAction.scheduleCheck`.
    case upstreamCheck(now: Double, reachable: Bool)
    /// The cluster as gathered after `MonitorAction.gatherElection`.
    case election(ElectionInput)
    /// The result of `failover_validation_command` (`MonitorAction.runValidation`): exit 0 or a Lua
    /// `true` allows; otherwise `reason` says why not.
    case validation(now: Double, allowed: Bool, reason: String?)
    /// The result of `promote_command` (`MonitorAction.promote`); `detail` is its output or error.
    case promotion(now: Double, succeeded: Bool, detail: String)
    /// While waiting for a winner (or degraded): `nodeID` is now a primary (not in recovery).
    case primaryAppeared(now: Double, nodeID: Int)
    /// The result of `follow_command` (`MonitorAction.follow`) for `primaryID`.
    case follow(now: Double, succeeded: Bool, primaryID: Int, detail: String)
    /// `keel service pause` / `unpause` took effect.
    case pauseChanged(now: Double, paused: Bool)
    /// `standby_disconnect_on_failover`: the daemon saw no WAL receiver left on any reachable
    /// sibling, before `sibling_nodes_disconnect_timeout` passed (repmgr stops waiting then too).
    case siblingsDisconnected(now: Double)
    /// A deadline scheduled with `MonitorAction.scheduleTimer` (or `waitForPrimary`) passed.
    case timer(now: Double)
    /// `MonitorAction.gatherElection` failed (the local metadata or this node's record could not be
    /// read within its deadline); `reason` says why.
    case electionUnavailable(now: Double, reason: String)

    /// The event without its payload, for the transition table.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case upstreamCheck, election, validation, promotion, primaryAppeared, follow, pauseChanged
        case siblingsDisconnected, timer, electionUnavailable

        /// The result of an action the daemon always reports back, success or failure (`gatherElection`,
        /// `runValidation`, `promote`, `follow`): the effector turns every failure into one of these.
        public var isActionResult: Bool {
            switch self {
            case .election, .electionUnavailable, .validation, .promotion, .follow: true
            default: false
            }
        }
    }

    /// This event's kind.
    public var kind: Kind {
        switch self {
        case .upstreamCheck: .upstreamCheck
        case .election: .election
        case .validation: .validation
        case .promotion: .promotion
        case .primaryAppeared: .primaryAppeared
        case .follow: .follow
        case .pauseChanged: .pauseChanged
        case .siblingsDisconnected: .siblingsDisconnected
        case .timer: .timer
        case .electionUnavailable: .electionUnavailable
        }
    }

    /// When the observation was made, seconds (monotonic).
    public var now: Double {
        switch self {
        case .upstreamCheck(let now, _), .validation(let now, _, _), .promotion(let now, _, _),
             .primaryAppeared(let now, _), .follow(let now, _, _, _), .pauseChanged(let now, _),
             .siblingsDisconnected(let now), .timer(let now), .electionUnavailable(let now, _):
            now
        case .election(let input):
            input.now
        }
    }
}

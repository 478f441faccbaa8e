/// Severity of a log line, PostgreSQL's and repmgr's levels.
public enum LogLevel: String, Sendable, Equatable, Comparable, CaseIterable {
    case debug, info, notice, warning, error

    /// Ordered debug < info < notice < warning < error.
    public static func < (a: LogLevel, b: LogLevel) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// What `failover_validation_command` (shell: placeholders `%n %a %v %u %t`; Lua: the context
/// table) is told about the won election (`R:repmgrd-physical.c`, `parse_failover_validation_command`).
public struct ValidationContext: Sendable, Equatable {
    /// This node's ID (`%n`).
    public var nodeID: Int
    /// This node's name (`%a`).
    public var nodeName: String?
    /// Visible nodes sharing the upstream, this one included (`%v`).
    public var visible: Int
    /// Nodes sharing the upstream, this one included (`%u`).
    public var sharedUpstream: Int
    /// Every registered node (`%t`).
    public var total: Int
    /// The voting term the promotion would use.
    public var term: Int
    /// This node's last received LSN.
    public var lsn: LSN?
    /// The eligible candidates, best first (this node first).
    public var candidates: [PeerView]

    /// A validation context.
    public init(nodeID: Int, nodeName: String?, visible: Int, sharedUpstream: Int, total: Int, term: Int,
                lsn: LSN? = nil, candidates: [PeerView]) {
        self.nodeID = nodeID
        self.nodeName = nodeName
        self.visible = visible
        self.sharedUpstream = sharedUpstream
        self.total = total
        self.term = term
        self.lsn = lsn
        self.candidates = candidates
    }
}

/// What the daemon must do after `FailoverMachine.handle`, in order. The daemon executes these and
/// feeds the results back as `MonitorEvent`s; it decides nothing itself.
///
/// Scheduling: a new `scheduleCheck` replaces the pending check, a new `scheduleTimer` replaces the
/// pending timer. A check or timer that arrives in a state that does not expect it is ignored, so
/// the daemon need not cancel anything.
public enum MonitorAction: Sendable, Equatable {
    /// Check the upstream at `at` (seconds, monotonic) and feed `.upstreamCheck`.
    case scheduleCheck(at: Double)
    /// Feed `.timer` at `at` (seconds, monotonic).
    case scheduleTimer(at: Double)
    /// Read every registered node's `PeerView` and the voting term, then feed `.election`.
    case gatherElection
    /// `standby_disconnect_on_failover`: stop this node's WAL receiver (repmgr's
    /// `disable_wal_receiver`), then watch the siblings' and feed `.siblingsDisconnected` or wait
    /// for the timer.
    case disconnectWALReceiver
    /// Start this node's WAL receiver again after the election (repmgr's `enable_wal_receiver`),
    /// emitted only when `disconnectWALReceiver` was.
    case enableWALReceiver
    /// Run `failover_validation_command` with this context and feed `.validation`.
    case runValidation(ValidationContext)
    /// Run `promote_command` (the promotion writes voting term `term`) and feed `.promotion`.
    case promote(term: Int)
    /// Poll `candidate` until it is a primary (feed `.primaryAppeared`) or `deadline` passes
    /// (feed `.timer`).
    case waitForPrimary(candidate: Int, deadline: Double)
    /// Run `follow_command` with `%n` = `primaryID` and feed `.follow`.
    case follow(primaryID: Int)
    /// Record an event in `repmgr.events` and fire `event_notification_command` (repmgr's names).
    case notify(event: EventName, success: Bool, details: String)
    /// Log `message`: the sentence is the operator's log line.
    case log(level: LogLevel, message: String)
    /// Stop keeld (`degraded_monitoring_timeout` passed; repmgr exits with `ERR_MONITORING_TIMEOUT`,
    /// `ExitStatus.monitoringTimeout`).
    case exitDaemon(reason: String)

    /// True for the steps of a failover (gather an election, stop the WAL receiver, validate,
    /// promote, wait for a winner, follow): what a paused daemon, or one with `failover=manual`,
    /// never emits. `enableWALReceiver` only undoes `disconnectWALReceiver` and is not one.
    public var isFailoverStep: Bool {
        switch self {
        case .gatherElection, .disconnectWALReceiver, .runValidation, .promote, .waitForPrimary, .follow:
            true
        case .enableWALReceiver, .scheduleCheck, .scheduleTimer, .notify, .log, .exitDaemon:
            false
        }
    }
}

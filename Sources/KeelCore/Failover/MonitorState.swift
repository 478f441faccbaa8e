/// Where keeld's monitoring of this node stands. Deadlines are absolute seconds on the daemon's
/// monotonic clock (the `now` the events carry), never read from a clock here.
///
/// repmgrd keeps the same facts in `monitoring_state` (`MS_NORMAL`/`MS_DEGRADED`),
/// `failover_state` and the local variables of `do_primary_failover()` (`R:repmgrd-physical.c`);
/// here they are one value.
public enum MonitorState: Sendable, Equatable {
    /// The upstream is healthy; checked every `monitor_interval_secs`.
    case monitoring
    /// The upstream was lost at `since`; `attempts` attempts to reach it have failed so far, the
    /// check that noticed the loss being the first (of `reconnect_attempts`, one every
    /// `reconnect_interval`).
    case reconnecting(since: Double, attempts: Int)
    /// `standby_disconnect_on_failover`: this node's WAL receiver is stopped; waiting until `until`
    /// (`sibling_nodes_disconnect_timeout`) for the siblings' to stop too.
    case disconnectingSiblings(until: Double)
    /// Waiting for the daemon's `ElectionInput` (`MonitorAction.gatherElection`).
    case electing
    /// Won the election for voting term `term`; `failover_validation_command` is running.
    case validating(term: Int)
    /// The validation command vetoed the promotion: the election reruns at `until`
    /// (`election_rerun_interval`).
    case waitingToRerun(until: Double)
    /// `promote_command` is running for voting term `term`.
    case promoting(term: Int)
    /// Lost the election to `candidate`: waiting until `deadline` (`primary_notification_timeout`)
    /// for it to become primary; past the deadline the election reruns without it
    /// (`FailoverMachine.failedCandidates`).
    case waitingForPrimary(candidate: Int, deadline: Double)
    /// `follow_command` is running to follow `primaryID`.
    case following(primaryID: Int)
    /// Cannot act since `since` (manual mode, cancelled election, failed promotion or follow);
    /// the upstream is still checked, and keeld exits after `degraded_monitoring_timeout`.
    case degraded(since: Double)
    /// `keel service pause`: observe and notify, never act.
    case paused
    /// This node is the primary (promoted, or started as one).
    case primary

    /// The state without its payload, for the transition table.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case monitoring, reconnecting, disconnectingSiblings, electing, validating, waitingToRerun, promoting
        case waitingForPrimary, following, degraded, paused, primary
    }

    /// This state's kind.
    public var kind: Kind {
        switch self {
        case .monitoring: .monitoring
        case .reconnecting: .reconnecting
        case .disconnectingSiblings: .disconnectingSiblings
        case .electing: .electing
        case .validating: .validating
        case .waitingToRerun: .waitingToRerun
        case .promoting: .promoting
        case .waitingForPrimary: .waitingForPrimary
        case .following: .following
        case .degraded: .degraded
        case .paused: .paused
        case .primary: .primary
        }
    }
}

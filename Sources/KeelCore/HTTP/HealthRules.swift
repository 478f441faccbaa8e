/// What one bounded query at request time told about the local PostgreSQL server.
public struct LocalServerState: Sendable, Equatable {
    /// Why the server could not be asked (refused, timed out); `nil` when it answered.
    public var problem: String?
    /// `pg_is_in_recovery()`.
    public var inRecovery: Bool
    /// `transaction_read_only` in a new session (a primary set read-only does not take writes).
    public var readOnly: Bool
    /// A WAL receiver streams from an upstream.
    public var streaming: Bool
    /// Bytes between the upstream's WAL end (as its sender last reported it) and this node's replay
    /// position; `nil` when not streaming.
    public var lagBytes: Int64?
    /// Seconds since the last replayed transaction committed on the primary, 0 when replay is caught up
    /// with what was received; `nil` on a primary.
    public var lagSeconds: Double?
    /// The timeline this node runs on, when known.
    public var timeline: Int?

    /// A state.
    public init(problem: String? = nil, inRecovery: Bool = false, readOnly: Bool = false, streaming: Bool = false,
                lagBytes: Int64? = nil, lagSeconds: Double? = nil, timeline: Int? = nil) {
        self.problem = problem
        self.lagSeconds = lagSeconds
        self.inRecovery = inRecovery
        self.readOnly = readOnly
        self.streaming = streaming
        self.lagBytes = lagBytes
        self.timeline = timeline
    }

    /// A server that did not answer.
    public static func unreachable(_ problem: String) -> LocalServerState { LocalServerState(problem: problem) }
}

/// keeld's health routes, as HAProxy's `option httpchk` and Kubernetes probes call them.
public enum HealthRoute: String, Sendable, CaseIterable {
    case primary, replica, readOnly = "read-only", health, liveness, readiness
}

/// A health route's answer: 200 when `ok`, 503 otherwise, with this as the JSON body.
public struct HealthVerdict: Sendable, Equatable, Encodable {
    /// Whether the check passed.
    public var ok: Bool
    /// `primary`, `standby` or `unknown` (the server did not answer).
    public var role: String
    /// Why, in one sentence.
    public var reason: String
    /// Whether this node is fenced.
    public var fenced: Bool
    /// Replay lag in bytes, for a standby that streams.
    public var lagBytes: Int64?
    /// The timeline, when known.
    public var timeline: Int?
    /// The HTTP status code.
    public var status: Int { ok ? 200 : 503 }
}

/// The health routes' rules: pure decisions over the request-time state, the fence and keeld's loop.
public enum HealthRules {
    /// The answer of `route`. `maxLagBytes` bounds the lag for `/replica` (`?lag=`); `loopAlive` says
    /// whether keeld's monitoring loop ran recently.
    public static func verdict(_ route: HealthRoute, state: LocalServerState, fenced: Bool, loopAlive: Bool,
                               maxLagBytes: Int64? = nil) -> HealthVerdict {
        let role = state.problem != nil ? "unknown" : (state.inRecovery ? "standby" : "primary")
        func answer(_ ok: Bool, _ reason: String) -> HealthVerdict {
            HealthVerdict(ok: ok, role: role, reason: reason, fenced: fenced, lagBytes: state.lagBytes, timeline: state.timeline)
        }
        if route == .liveness {
            return answer(loopAlive, loopAlive ? "keeld's monitoring loop is running" : "keeld's monitoring loop has not run for two monitoring intervals")
        }
        if let problem = state.problem { return answer(false, "PostgreSQL does not answer: \(problem)") }
        let primary = primaryVerdict(state: state, fenced: fenced)
        let replica = replicaVerdict(state: state, maxLagBytes: maxLagBytes)
        switch route {
        case .primary: return answer(primary.ok, primary.reason)
        case .replica: return answer(replica.ok, replica.reason)
        case .readOnly:
            if primary.ok { return answer(true, "primary serves reads") }
            return answer(state.inRecovery, state.inRecovery ? "standby serves reads" : primary.reason)
        case .health: return answer(true, "PostgreSQL answers")
        case .readiness:
            if !loopAlive { return answer(false, "keeld's monitoring loop has not run for two monitoring intervals") }
            if primary.ok || replica.ok { return answer(true, primary.ok ? primary.reason : replica.reason) }
            return answer(false, state.inRecovery ? replica.reason : primary.reason)
        case .liveness: return answer(loopAlive, "")
        }
    }

    private static func primaryVerdict(state: LocalServerState, fenced: Bool) -> (ok: Bool, reason: String) {
        if state.inRecovery { return (false, "in recovery (standby)") }
        if fenced { return (false, "fenced") }
        if state.readOnly { return (false, "not in recovery but read-only") }
        return (true, "primary taking writes")
    }

    private static func replicaVerdict(state: LocalServerState, maxLagBytes: Int64?) -> (ok: Bool, reason: String) {
        guard state.inRecovery else { return (false, "not in recovery (primary)") }
        guard state.streaming else { return (false, "in recovery, not streaming from an upstream") }
        if let maxLagBytes {
            guard let lag = state.lagBytes else { return (false, "streaming, replay lag unknown") }
            if lag > maxLagBytes { return (false, "replay lag \(lag) bytes exceeds \(maxLagBytes)") }
        }
        return (true, "standby streaming" + (state.lagBytes.map { ", replay lag \($0) bytes" } ?? ""))
    }
}

/// Whether keeld's monitoring loop is alive: it last ran at `lastRan` and meant to sleep `plannedSleep`
/// seconds; it is late once it has not come back within two monitoring intervals of that.
public enum LoopLiveness {
    /// `true` when the loop ran (or is in a planned sleep) within two intervals.
    public static func isAlive(now: Double, lastRan: Double?, plannedSleep: Double, interval: Double) -> Bool {
        guard let lastRan else { return false }
        return now <= lastRan + max(0, plannedSleep) + 2 * max(interval, 1)
    }
}

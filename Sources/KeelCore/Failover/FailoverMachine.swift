/// keeld's monitoring and failover logic for one node, as a state machine: one observation in,
/// the state moves, actions out. It never reads a clock, sleeps or touches a database: time comes
/// in with each `MonitorEvent`, and the daemon executes the `MonitorAction`s it returns.
///
/// `handle` follows `Transitions.table`: the first row whose state, event and condition match
/// runs, moves the state to the row's `to`, and returns the row's actions, which always include
/// exactly one `.log`: the sentence the operator reads. An event no row expects (a stale timer, a
/// check while electing) is ignored with a debug line.
///
/// The behaviour is repmgrd 5.3's `monitor_streaming_standby()` / `do_primary_failover()`
/// (`R:repmgrd-physical.c`), with its sleeps turned into deadlines, and one deliberate difference: a
/// winner that does not become primary within `primary_notification_timeout` is not elected again in
/// the same failover (`failedCandidates`).
public struct FailoverMachine: Sendable {
    /// Where monitoring stands.
    public internal(set) var state: MonitorState
    /// The settings the machine was built with.
    public let settings: FailoverSettings
    /// The node this one follows (the lost primary during a failover); `nil` when this node is
    /// the primary or the upstream is not known.
    public internal(set) var upstreamNodeID: Int?
    /// The result of the last upstream check (true until one fails).
    public internal(set) var upstreamReachable = true
    /// When the last counted reconnection attempt was made (`reconnecting`): the next one counts only
    /// `reconnect_interval` later, whatever wakes the daemon earlier.
    public internal(set) var lastAttemptAt: Double?
    /// True once this node is the primary (promoted, or started in `.primary`); a paused node
    /// resumes as primary when it is.
    public internal(set) var isPrimary: Bool
    /// The row of `Transitions.table` the last `handle` followed; `nil` when it ignored the event.
    public internal(set) var lastTransition: TransitionID?

    /// Node names by ID, learned from election inputs, for the log lines.
    var nodeNames: [Int: String]
    /// Set while this node's WAL receiver is stopped (`standby_disconnect_on_failover`). keeld persists
    /// the fact itself (its facts file) and restores the receiver after a restart.
    public internal(set) var walReceiverDisconnected = false
    /// The new primary a manual-mode node already reported `standby_disconnect_manual` for.
    var manualNoticeSent: Int?
    /// Candidates this node elected in the current failover that did not become primary within
    /// `primary_notification_timeout` (a failed `promote_command`, a crash mid-promotion): the next
    /// elections leave them out of the ranking (`Election.evaluate`'s `failedCandidates`), so the
    /// rerun elects the next standby. Forgotten when the failover ends: the machine enters
    /// `monitoring` (the upstream came back, the new primary was followed), `following` (a primary
    /// appeared) or `primary`. Not persisted: a restarted keeld starts with none.
    ///
    /// Keel differs from repmgr here: repmgrd reruns the election with the same inputs and elects the
    /// same failed winner again, every `primary_notification_timeout`, so the cluster never gets a
    /// primary. The price: `primary_notification_timeout` must exceed the time a promotion takes, or a
    /// slow winner and the next candidate may both promote.
    public internal(set) var failedCandidates: Set<Int> = []

    /// A machine starting in `initial`. `upstreamNodeID` and `nodeNames` only make log lines and
    /// events specific (`node "a" (ID: 1)` rather than "the upstream node"); names are also
    /// learned from each `ElectionInput`.
    public init(settings: FailoverSettings, initial: MonitorState = .monitoring, upstreamNodeID: Int? = nil,
                nodeNames: [Int: String] = [:]) {
        self.settings = settings
        self.state = initial
        self.upstreamNodeID = upstreamNodeID
        self.nodeNames = nodeNames
        self.isPrimary = initial == .primary
    }

    /// The same machine — state, upstream, names, reachability — under new settings: keeld applies a
    /// reloaded configuration (SIGHUP) this way, so `failover=manual` takes effect at once.
    public func reconfigured(with settings: FailoverSettings) -> FailoverMachine {
        var copy = FailoverMachine(settings: settings, initial: state, upstreamNodeID: upstreamNodeID, nodeNames: nodeNames)
        copy.upstreamReachable = upstreamReachable
        copy.lastAttemptAt = lastAttemptAt
        copy.walReceiverDisconnected = walReceiverDisconnected
        copy.manualNoticeSent = manualNoticeSent
        copy.failedCandidates = failedCandidates
        copy.isPrimary = isPrimary
        copy.lastTransition = lastTransition
        return copy
    }

    /// One observation in, the state moves, actions out (in the order to execute them).
    /// Never reads a clock.
    public mutating func handle(_ event: MonitorEvent) -> [MonitorAction] {
        var report: ElectionReport?
        if case .election(let input) = event {
            for node in [input.me, input.lostPrimary] + input.peers { nodeNames[node.nodeID] = node.name }
            if upstreamNodeID == nil { upstreamNodeID = input.lostPrimary.nodeID }
            report = Election.evaluate(input, settings: settings, failedCandidates: failedCandidates)
        }
        let trigger = Trigger(event: event, report: report)
        for row in Transitions.table where row.applies(to: state.kind, on: event.kind) && row.condition(self, trigger) {
            let actions = row.effect(&self, trigger)
            assert(state.kind == row.to, "transition \(row.id) moved to \(state.kind), its row says \(row.to)")
            if Self.failoverOverStates.contains(state.kind) { failedCandidates = [] }
            lastTransition = row.id
            return actions
        }
        lastTransition = nil
        return [.log(level: .debug, message: "ignoring \(describe(event)) in state \(state.kind.rawValue)")]
    }

    /// The states that end a failover: entering one forgets the `failedCandidates`.
    static let failoverOverStates: Set<MonitorState.Kind> = [.monitoring, .following, .primary]
}

/// An event with what the machine derived from it (the election report), as the transition
/// table's conditions and effects see it.
struct Trigger: Sendable {
    let event: MonitorEvent
    let report: ElectionReport?

    var now: Double { event.now }
    /// `.upstreamCheck`: reachable. `.validation`: allowed. `.promotion`, `.follow`: succeeded.
    /// `.pauseChanged`: paused.
    var flag: Bool {
        switch event {
        case .upstreamCheck(_, let value), .validation(_, let value, _), .promotion(_, let value, _),
             .follow(_, let value, _, _), .pauseChanged(_, let value):
            value
        case .election, .primaryAppeared, .siblingsDisconnected, .timer, .electionUnavailable:
            false
        }
    }
    /// `.primaryAppeared`: the node. `.follow`: the primary followed.
    var nodeID: Int? {
        switch event {
        case .primaryAppeared(_, let id), .follow(_, _, let id, _): id
        default: nil
        }
    }
    /// `.promotion`, `.follow`: the detail. `.validation`: the reason.
    var detail: String {
        switch event {
        case .promotion(_, _, let detail), .follow(_, _, _, let detail): detail
        case .validation(_, _, let reason): reason ?? "no reason given"
        case .electionUnavailable(_, let reason): reason
        default: ""
        }
    }
    var outcome: ElectionOutcome? { report?.outcome }
}

// MARK: - Pieces the transitions share

extension FailoverMachine {
    /// `node "a" (ID: 1)` when the name is known, else `node 1`.
    func name(_ id: Int) -> String {
        nodeNames[id].map { "node \"\($0)\" (ID: \(id))" } ?? "node \(id)"
    }

    /// The upstream, named.
    var upstream: String { upstreamNodeID.map(name) ?? "node (ID unknown)" }

    /// This node, named: `this node "b" (ID: 2)`.
    var me: String {
        nodeNames[settings.nodeID].map { "this node \"\($0)\" (ID: \(settings.nodeID))" }
            ?? "this node (ID: \(settings.nodeID))"
    }

    /// Enters `.monitoring` with the upstream healthy; the next check after `monitor_interval_secs`.
    mutating func enterMonitoring(_ now: Double, checkAt: Double? = nil) -> [MonitorAction] {
        state = .monitoring
        upstreamReachable = true
        return [.scheduleCheck(at: checkAt ?? now + settings.monitorInterval)]
    }

    /// Enters `.degraded` at `now`: keep checking the upstream; a timer for
    /// `degraded_monitoring_timeout` when set.
    mutating func enterDegraded(_ now: Double) -> [MonitorAction] {
        state = .degraded(since: now)
        var actions: [MonitorAction] = [.scheduleCheck(at: now + settings.monitorInterval)]
        if let timeout = settings.degradedMonitoringTimeout { actions.append(.scheduleTimer(at: now + timeout)) }
        return actions
    }

    /// Starts (or, `rerun`, reruns) a failover: with `standby_disconnect_on_failover` stop the WAL
    /// receiver and wait for the siblings, else gather the election at once. `sentence` (why) opens
    /// the log line.
    mutating func startFailover(_ now: Double, _ sentence: String, level: LogLevel = .notice,
                                rerun: Bool = false) -> [MonitorAction] {
        let again = rerun ? " again" : ""
        if settings.standbyDisconnectOnFailover {
            let until = now + settings.siblingNodesDisconnectTimeout
            state = .disconnectingSiblings(until: until)
            walReceiverDisconnected = true
            return [.log(level: level, message: sentence + "; stopping this node's WAL receiver and waiting up to "
                        + "\(formatSeconds(settings.siblingNodesDisconnectTimeout)) s for the sibling nodes to stop theirs "
                        + "(standby_disconnect_on_failover) before electing a promotion candidate\(again)"),
                    .disconnectWALReceiver, .scheduleTimer(at: until)]
        }
        state = .electing
        return [.log(level: level, message: sentence + "; electing a promotion candidate\(again)"), .gatherElection]
    }

    /// The manual-mode answer to a lost upstream: no election, degraded monitoring.
    mutating func requireManualFailover(_ now: Double, _ sentence: String) -> [MonitorAction] {
        [.log(level: .notice, message: sentence + "; this node is not configured for automatic failover "
              + "(\"failover\" is set to \"manual\"), so it will neither promote nor follow a new primary: "
              + "manually execute \"keel standby follow\" once a new primary exists")]
            + enterDegraded(now)
    }

    /// When the next reconnection attempt counts: the last one plus `reconnect_interval`.
    var nextAttemptAt: Double { (lastAttemptAt ?? -.infinity) + settings.reconnectInterval }

    /// `.enableWALReceiver` when this node's WAL receiver was stopped for the election.
    mutating func restartWALReceiver() -> [MonitorAction] {
        guard walReceiverDisconnected else { return [] }
        walReceiverDisconnected = false
        return [.enableWALReceiver]
    }

    /// The `degraded_monitoring_timeout` has passed at `now` in `.degraded`.
    func degradedTimedOut(_ now: Double) -> Bool {
        guard case .degraded(let since) = state, let timeout = settings.degradedMonitoringTimeout else { return false }
        return now - since >= timeout
    }

    /// Seconds since the state's start (`reconnecting`, `degraded`), 0 otherwise.
    func elapsed(_ now: Double) -> Double {
        switch state {
        case .reconnecting(let since, _), .degraded(let since): now - since
        default: 0
        }
    }

    /// The exit at `degraded_monitoring_timeout`, with repmgr's sentence and `repmgrd_shutdown` event.
    func exitAfterDegradedTimeout(_ now: Double) -> [MonitorAction] {
        let sentence = "degraded monitoring timeout (\(formatSeconds(elapsed(now))) seconds) exceeded, terminating"
        return [.log(level: .notice, message: sentence),
                .notify(event: .daemonShutdown, success: true, details: sentence),
                .exitDaemon(reason: sentence)]
    }

    func describe(_ event: MonitorEvent) -> String {
        switch event {
        case .upstreamCheck(_, let reachable): "an upstream check (\(reachable ? "reachable" : "unreachable"))"
        case .election: "an election result"
        case .validation(_, let allowed, _): "a validation result (\(allowed ? "allowed" : "vetoed"))"
        case .promotion(_, let ok, _): "a promotion result (\(ok ? "succeeded" : "failed"))"
        case .primaryAppeared(_, let id): "the news that \(name(id)) is primary"
        case .follow(_, let ok, let id, _): "a follow result for \(name(id)) (\(ok ? "succeeded" : "failed"))"
        case .pauseChanged(_, let paused): paused ? "a pause request" : "an unpause request"
        case .siblingsDisconnected: "the news that the siblings' WAL receivers stopped"
        case .timer(let now): "a timer at \(formatSeconds(now)) s"
        case .electionUnavailable(_, let reason): "a failed election gathering (\(reason))"
        }
    }
}

/// `1 attempt`, `3 attempts`.
func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }

/// Seconds as a short number: `10`, `2.5`.
func formatSeconds(_ value: Double) -> String {
    guard abs(value) < 1e15 else { return String(value) }
    // Whole seconds as integers, else at most milliseconds without trailing zeros: 2.0059581 → "2.006".
    let millis = Int((value * 1000).rounded())
    var text = String(abs(millis) / 1000)
    var fraction = String(abs(millis) % 1000)
    fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
    while fraction.hasSuffix("0") { fraction.removeLast() }
    if !fraction.isEmpty { text += "." + fraction }
    return millis < 0 ? "-" + text : text
}

import Testing
@testable import KeelCore

/// One step of a scenario: an event, the state after it, the actions other than the log line
/// (exactly, in order), and a phrase the one log line must contain.
struct Step: Sendable {
    let event: MonitorEvent
    let state: MonitorState
    let actions: [MonitorAction]
    let says: String?

    init(_ event: MonitorEvent, _ state: MonitorState, _ actions: [MonitorAction] = [], says: String? = nil) {
        self.event = event
        self.state = state
        self.actions = actions
        self.says = says
    }
}

/// A machine run as a table of steps.
struct MachineScenario: Sendable, CustomTestStringConvertible {
    let name: String
    let settings: FailoverSettings
    let initial: MonitorState
    let steps: [Step]

    var testDescription: String { name }

    init(_ name: String, _ settings: FailoverSettings, from initial: MonitorState = .monitoring, _ steps: [Step]) {
        self.name = name
        self.settings = settings
        self.initial = initial
        self.steps = steps
    }

    init(_ name: String, from initial: MonitorState = .monitoring, _ steps: [Step]) {
        self.init(name, Runs.base, from: initial, steps)
    }

    func machine(initial: MonitorState? = nil) -> FailoverMachine {
        FailoverMachine(settings: settings, initial: initial ?? self.initial, upstreamNodeID: 1, nodeNames: Cluster.names)
    }
}

/// Events, inputs and settings the machine scenarios share.
enum Runs {
    typealias C = Cluster

    /// Automatic failover, checks every 2 s; 3 attempts to reach a lost upstream 10 s apart, the
    /// check that notices the loss being the first: deemed lost 20 s after that check.
    static let base = FailoverSettings(nodeID: 2, mode: .automatic, monitorInterval: 2, reconnectAttempts: 3,
                                       reconnectInterval: 10, electionRerunInterval: 15, primaryNotificationTimeout: 60)

    static func with(_ change: (inout FailoverSettings) -> Void) -> FailoverSettings {
        var settings = base
        change(&settings)
        return settings
    }

    static func check(_ now: Double, _ reachable: Bool) -> MonitorEvent { .upstreamCheck(now: now, reachable: reachable) }

    /// This node (LSN 7000) beats charlie (6000): won, term 8.
    static func win(_ now: Double) -> ElectionInput {
        C.input(me: C.me(lsn: 0x7000), [C.standby(3, lsn: 0x6000)], now: now)
    }
    /// charlie (6000) beats this node (5000): lost to 3.
    static func lose(_ now: Double) -> ElectionInput { C.input([C.standby(3, lsn: 0x6000)], now: now) }
    /// delta is already out of recovery: follow 4.
    static func existing(_ now: Double) -> ElectionInput { C.input([C.standby(4, inRecovery: false)], now: now) }
    /// 1 of 2 visible: cancelled for quorum.
    static func noQuorum(_ now: Double) -> ElectionInput { C.input([C.standby(3, reachable: false)], now: now) }
    /// Everyone at priority 0.
    static func nobody(_ now: Double) -> ElectionInput {
        C.input(me: C.me(priority: 0), [C.standby(3, priority: 0)], now: now)
    }
    /// The lost primary answers again, not in recovery.
    static func primaryBack(_ now: Double) -> ElectionInput {
        C.input([C.standby(3)], primary: PeerView(nodeID: 1, name: "alpha", type: .primary, location: "dc1",
                                                  reachable: true, isInRecovery: false), now: now)
    }

    /// The validation context the machine passes for `input` (won by this node).
    static func validation(_ input: ElectionInput, settings: FailoverSettings = base) -> MonitorAction {
        let report = Election.evaluate(input, settings: settings)
        guard case .won(let term) = report.outcome else { preconditionFailure("not won") }
        return .runValidation(ValidationContext(
            nodeID: 2, nodeName: "bravo", visible: report.visible, sharedUpstream: report.sharedUpstream,
            total: report.total, term: term, lsn: input.me.lastReceivedLSN, candidates: report.candidates))
    }

    static let disconnected = MonitorAction.notify(event: .upstreamDisconnect, success: true,
                                                   details: "unable to connect to upstream node \"alpha\" (ID: 1)")
    static func reconnected(_ details: String) -> MonitorAction {
        .notify(event: .upstreamReconnect, success: true, details: details)
    }
    static let promotedEvent = MonitorAction.notify(event: .failoverPromote, success: true,
                                                    details: "node 2 promoted to primary; old primary 1 marked as failed")
    static func followedEvent(_ primary: Int) -> MonitorAction {
        .notify(event: .failoverFollow, success: true, details: "node 2 now following new upstream node \(primary)")
    }
    static func aborted(_ details: String) -> MonitorAction { .notify(event: .failoverAborted, success: true, details: details) }
    static let primaryBackDetails = "original primary node \"alpha\" (ID: 1) reappeared - no action taken"

    // MARK: - the scenarios

    static let all: [MachineScenario] = classic + faults + synchronous

    static let classic: [MachineScenario] = [
        MachineScenario("reconnect: the detecting check is attempt 1; (reconnect_attempts - 1) × reconnect_interval, "
                        + "then the election", [
            Step(check(0, true), .monitoring, [.scheduleCheck(at: 2)], says: "is reachable"),
            Step(check(2, false), .reconnecting(since: 2, attempts: 1), [disconnected, .scheduleCheck(at: 12)],
                 says: "unable to connect to upstream node \"alpha\" (ID: 1) (attempt 1 of 3); 2 more attempts will be "
                     + "made, one every 10 s"),
            Step(check(12, false), .reconnecting(since: 2, attempts: 2), [.scheduleCheck(at: 22)],
                 says: "attempt 2 of 3 to upstream node \"alpha\" (ID: 1) failed; next attempt in 10 s"),
            Step(check(22, false), .electing, [.gatherElection],
                 says: "unable to reach upstream node \"alpha\" (ID: 1) in 3 attempts over 20 s; electing"),
        ]),
        MachineScenario("reconnect: a success midway resets the count", [
            Step(check(0, false), .reconnecting(since: 0, attempts: 1), [disconnected, .scheduleCheck(at: 10)],
                 says: "(attempt 1 of 3)"),
            Step(check(10, false), .reconnecting(since: 0, attempts: 2), [.scheduleCheck(at: 20)], says: "attempt 2 of 3"),
            Step(check(20, true), .monitoring,
                 [reconnected("reconnected to upstream node \"alpha\" (ID: 1) after 20 seconds"), .scheduleCheck(at: 22)]),
            Step(check(22, false), .reconnecting(since: 22, attempts: 1), [disconnected, .scheduleCheck(at: 32)],
                 says: "(attempt 1 of 3)"),
            Step(check(32, false), .reconnecting(since: 22, attempts: 2), [.scheduleCheck(at: 42)], says: "attempt 2 of 3"),
            Step(check(42, false), .electing, [.gatherElection], says: "in 3 attempts over 20 s"),
        ]),
        MachineScenario("reconnect_attempts = 0 fails over at once", with { $0.reconnectAttempts = 0 }, [
            Step(check(0, false), .electing, [disconnected, .gatherElection], says: "reconnect_attempts is 0"),
        ]),
        MachineScenario("the rule: reconnect_attempts = 3, reconnect_interval = 1: the election exactly 2 s after "
                        + "the detecting check", with { $0.reconnectAttempts = 3; $0.reconnectInterval = 1 }, [
            Step(check(0, true), .monitoring, [.scheduleCheck(at: 2)]),
            Step(check(2, false), .reconnecting(since: 2, attempts: 1), [disconnected, .scheduleCheck(at: 3)],
                 says: "(attempt 1 of 3); 2 more attempts will be made, one every 1 s"),
            Step(check(3, false), .reconnecting(since: 2, attempts: 2), [.scheduleCheck(at: 4)],
                 says: "attempt 2 of 3 to upstream node \"alpha\" (ID: 1) failed; next attempt in 1 s"),
            Step(check(4, false), .electing, [.gatherElection],
                 says: "unable to reach upstream node \"alpha\" (ID: 1) in 3 attempts over 2 s"),
        ]),
        MachineScenario("the rule: reconnect_attempts = 1: the detecting check elects at once",
                        with { $0.reconnectAttempts = 1; $0.reconnectInterval = 1 }, [
            Step(check(0, true), .monitoring, [.scheduleCheck(at: 2)]),
            Step(check(2, false), .electing, [disconnected, .gatherElection],
                 says: "unable to connect to upstream node \"alpha\" (ID: 1) (reconnect_attempts is 1); electing"),
        ]),
        MachineScenario("full run: monitoring to promotion", [
            Step(check(0, true), .monitoring, [.scheduleCheck(at: 2)]),
            Step(check(2, false), .reconnecting(since: 2, attempts: 1), [disconnected, .scheduleCheck(at: 12)]),
            Step(check(12, false), .reconnecting(since: 2, attempts: 2), [.scheduleCheck(at: 22)]),
            Step(check(22, false), .electing, [.gatherElection], says: "in 3 attempts over 20 s"),
            Step(.election(win(23)), .promoting(term: 8), [.promote(term: 8)],
                 says: "this node \"bravo\" (ID: 2) is the promotion candidate for voting term 8"),
            Step(.promotion(now: 30, succeeded: true, detail: "server promoted"), .primary, [promotedEvent],
                 says: "promoted to primary for voting term 8; former primary node \"alpha\" (ID: 1) marked as failed"),
            Step(check(32, false), .primary, [], says: "ignoring"),
        ]),
        MachineScenario("full run: monitoring to following the winner", [
            Step(check(0, true), .monitoring, [.scheduleCheck(at: 2)]),
            Step(check(2, false), .reconnecting(since: 2, attempts: 1), [disconnected, .scheduleCheck(at: 12)]),
            Step(check(12, false), .reconnecting(since: 2, attempts: 2), [.scheduleCheck(at: 22)]),
            Step(check(22, false), .electing, [.gatherElection], says: "in 3 attempts over 20 s"),
            Step(.election(lose(23)), .waitingForPrimary(candidate: 3, deadline: 83),
                 [.waitForPrimary(candidate: 3, deadline: 83)],
                 says: "promotion candidate is node \"charlie\" (ID: 3)"),
            Step(.primaryAppeared(now: 30, nodeID: 3), .following(primaryID: 3), [.follow(primaryID: 3)],
                 says: "node \"charlie\" (ID: 3) is now primary; following it"),
            Step(.follow(now: 35, succeeded: true, primaryID: 3, detail: ""), .monitoring,
                 [followedEvent(3), .scheduleCheck(at: 37)], says: "now follows new primary node \"charlie\" (ID: 3)"),
            Step(check(37, true), .monitoring, [.scheduleCheck(at: 39)], says: "upstream node \"charlie\" (ID: 3)"),
        ]),
        MachineScenario("validation veto, rerun after election_rerun_interval, then allow",
                        with { $0.hasValidationCommand = true }, from: .electing, [
            Step(.election(win(0)), .validating(term: 8), [validation(win(0))], says: "running failover_validation_command"),
            Step(.validation(now: 1, allowed: false, reason: "replication lag too high"), .waitingToRerun(until: 16),
                 [.scheduleTimer(at: 16), .scheduleCheck(at: 3)],
                 says: "vetoed the promotion of this node \"bravo\" (ID: 2): replication lag too high; "
                     + "rerunning the election in 15 s"),
            Step(check(3, false), .waitingToRerun(until: 16), [.scheduleCheck(at: 5)]),
            Step(.timer(now: 10), .waitingToRerun(until: 16), [], says: "ignoring a timer"),
            Step(.timer(now: 16), .electing, [.gatherElection],
                 says: "election_rerun_interval (15 s) passed; electing a promotion candidate again"),
            Step(.election(win(17)), .validating(term: 8), [validation(win(17))]),
            Step(.validation(now: 18, allowed: true, reason: nil), .promoting(term: 8), [.promote(term: 8)],
                 says: "allowed the promotion"),
            Step(.promotion(now: 25, succeeded: true, detail: ""), .primary, [promotedEvent]),
        ]),
        MachineScenario("validation veto, then the upstream comes back before the rerun",
                        with { $0.hasValidationCommand = true }, from: .electing, [
            Step(.election(win(0)), .validating(term: 8), [validation(win(0))]),
            Step(.validation(now: 1, allowed: false, reason: nil), .waitingToRerun(until: 16),
                 [.scheduleTimer(at: 16), .scheduleCheck(at: 3)], says: "no reason given"),
            Step(check(3, true), .monitoring,
                 [reconnected("reconnected to upstream node \"alpha\" (ID: 1) before the election rerun"),
                  .scheduleCheck(at: 5)], says: "failover abandoned"),
            Step(.timer(now: 16), .monitoring, [], says: "ignoring"),
        ]),
        MachineScenario("promotion failure: repmgrd_promote_error, degraded, recovered by the upstream", from: .electing, [
            Step(.election(win(0)), .promoting(term: 8), [.promote(term: 8)]),
            Step(.promotion(now: 5, succeeded: false, detail: "server did not promote within 60 seconds"), .degraded(since: 5),
                 [.notify(event: .promoteError, success: false,
                          details: "promote_command failed: server did not promote within 60 seconds"),
                  .scheduleCheck(at: 7)], says: "promote_command failed on this node"),
            Step(check(7, false), .degraded(since: 5), [.scheduleCheck(at: 9)], says: "degraded state for 2 seconds"),
            Step(check(9, true), .monitoring,
                 [reconnected("reconnected to upstream node \"alpha\" (ID: 1) after 4 seconds in degraded monitoring"),
                  .scheduleCheck(at: 11)]),
        ]),
        MachineScenario("the winner never becomes primary: rerun after primary_notification_timeout", from: .electing, [
            Step(.election(lose(0)), .waitingForPrimary(candidate: 3, deadline: 60), [.waitForPrimary(candidate: 3, deadline: 60)],
                 says: "waiting up to 60 s"),
            Step(.timer(now: 30), .waitingForPrimary(candidate: 3, deadline: 60), [], says: "ignoring"),
            Step(check(31, false), .waitingForPrimary(candidate: 3, deadline: 60), [], says: "ignoring"),
            Step(.timer(now: 60), .electing, [.gatherElection],
                 says: "node \"charlie\" (ID: 3) did not become primary within 60 s"),
            Step(.election(C.input([C.standby(3, lsn: 0x9000, reachable: false), C.standby(4)], now: 61)),
                 .promoting(term: 8), [.promote(term: 8)]),
        ]),
        MachineScenario("the original primary reappears while waiting for the winner", from: .electing, [
            Step(.election(lose(0)), .waitingForPrimary(candidate: 3, deadline: 60), [.waitForPrimary(candidate: 3, deadline: 60)]),
            Step(.primaryAppeared(now: 10, nodeID: 1), .monitoring, [aborted(primaryBackDetails), .scheduleCheck(at: 12)],
                 says: "resuming monitoring"),
        ]),
        MachineScenario("another node than the candidate becomes primary: follow it", from: .electing, [
            Step(.election(lose(0)), .waitingForPrimary(candidate: 3, deadline: 60), [.waitForPrimary(candidate: 3, deadline: 60)]),
            Step(.primaryAppeared(now: 10, nodeID: 4), .following(primaryID: 4), [.follow(primaryID: 4)],
                 says: "the election's candidate was node \"charlie\" (ID: 3)"),
        ]),
        MachineScenario("a node already is primary: follow it; the follow fails", from: .electing, [
            Step(.election(existing(0)), .following(primaryID: 4), [.follow(primaryID: 4)],
                 says: "node \"delta\" (ID: 4) is not in recovery"),
            Step(.follow(now: 5, succeeded: false, primaryID: 4, detail: "timeline diverged"), .degraded(since: 5),
                 [.notify(event: .failoverFollow, success: false, details: "unable to follow new primary node 4: timeline diverged"),
                  .scheduleCheck(at: 7)], says: "follow_command failed"),
        ]),
        MachineScenario("cancelled election: degraded, keep checking, the upstream returns", from: .electing, [
            Step(.election(noQuorum(0)), .degraded(since: 0),
                 [aborted("election cancelled: unable to reach a qualified majority of nodes: 1 of 2 nodes sharing "
                          + "upstream node \"alpha\" (ID: 1) are visible, more than half are needed"),
                  .scheduleCheck(at: 2)], says: "election cancelled"),
            Step(check(2, false), .degraded(since: 0), [.scheduleCheck(at: 4)]),
            Step(check(4, true), .monitoring,
                 [reconnected("reconnected to upstream node \"alpha\" (ID: 1) after 4 seconds in degraded monitoring"),
                  .scheduleCheck(at: 6)]),
        ]),
        MachineScenario("the lost primary is back when the election runs", from: .electing, [
            Step(.election(primaryBack(0)), .monitoring, [aborted(primaryBackDetails), .scheduleCheck(at: 2)],
                 says: "reappeared"),
        ]),
        MachineScenario("no eligible candidate: degraded; a new primary appears and is followed", from: .electing, [
            Step(.election(nobody(0)), .degraded(since: 0),
                 [aborted(Election.evaluate(nobody(0), settings: base).sentence), .scheduleCheck(at: 2)],
                 says: "no eligible promotion candidate"),
            Step(.primaryAppeared(now: 3, nodeID: 1), .degraded(since: 0), [], says: "ignoring"),
            Step(.primaryAppeared(now: 4, nodeID: 3), .following(primaryID: 3), [.follow(primaryID: 3)]),
            Step(.follow(now: 5, succeeded: true, primaryID: 3, detail: ""), .monitoring, [followedEvent(3), .scheduleCheck(at: 7)]),
        ]),
        MachineScenario("failover=manual: no election, degraded, standby_disconnect_manual once",
                        with { $0.mode = .manual; $0.reconnectAttempts = 2 }, [
            Step(check(0, false), .reconnecting(since: 0, attempts: 1), [disconnected, .scheduleCheck(at: 10)],
                 says: "(attempt 1 of 2); 1 more attempt will be made, one every 10 s"),
            Step(check(10, false), .degraded(since: 10), [.scheduleCheck(at: 12)],
                 says: "in 2 attempts over 10 s; this node is not configured for automatic failover"),
            Step(.primaryAppeared(now: 11, nodeID: 3), .degraded(since: 10),
                 [.notify(event: .standbyDisconnectManual, success: true,
                          details: "node 2 is in manual failover mode and is now disconnected from streaming replication")],
                 says: "manually execute \"keel standby follow\""),
            Step(.primaryAppeared(now: 12, nodeID: 3), .degraded(since: 10), [], says: "ignoring"),
            Step(check(12, false), .degraded(since: 10), [.scheduleCheck(at: 14)]),
        ]),
        MachineScenario("failover=manual with reconnect_attempts = 0", with { $0.mode = .manual; $0.reconnectAttempts = 0 }, [
            Step(check(0, false), .degraded(since: 0), [disconnected, .scheduleCheck(at: 2)], says: "\"failover\" is set to \"manual\""),
        ]),
        MachineScenario("degraded_monitoring_timeout: keeld exits", with { $0.degradedMonitoringTimeout = 30 }, from: .electing, [
            Step(.election(noQuorum(0)), .degraded(since: 0), [
                aborted("election cancelled: " + Election.evaluate(noQuorum(0), settings: base).sentence),
                .scheduleCheck(at: 2), .scheduleTimer(at: 30)]),
            Step(check(2, false), .degraded(since: 0), [.scheduleCheck(at: 4)]),
            Step(.timer(now: 20), .degraded(since: 0), [], says: "ignoring"),
            Step(.timer(now: 30), .degraded(since: 0), [
                .notify(event: .daemonShutdown, success: true,
                        details: "degraded monitoring timeout (30 seconds) exceeded, terminating"),
                .exitDaemon(reason: "degraded monitoring timeout (30 seconds) exceeded, terminating")]),
            Step(check(32, false), .degraded(since: 0), [
                .notify(event: .daemonShutdown, success: true,
                        details: "degraded monitoring timeout (32 seconds) exceeded, terminating"),
                .exitDaemon(reason: "degraded monitoring timeout (32 seconds) exceeded, terminating")]),
        ]),
        MachineScenario("standby_disconnect_on_failover: siblings confirm before the timeout",
                        with { $0.standbyDisconnectOnFailover = true; $0.reconnectAttempts = 2 }, [
            Step(check(0, false), .reconnecting(since: 0, attempts: 1), [disconnected, .scheduleCheck(at: 10)],
                 says: "(attempt 1 of 2)"),
            Step(check(10, false), .disconnectingSiblings(until: 40), [.disconnectWALReceiver, .scheduleTimer(at: 40)],
                 says: "in 2 attempts over 10 s; stopping this node's WAL receiver and waiting up to 30 s for the sibling nodes"),
            Step(.siblingsDisconnected(now: 12), .electing, [.gatherElection], says: "WAL receiver disconnected on all sibling"),
            Step(.election(win(13)), .promoting(term: 8), [.enableWALReceiver, .promote(term: 8)]),
            Step(.timer(now: 40), .promoting(term: 8), [], says: "ignoring"),
        ]),
        MachineScenario("standby_disconnect_on_failover: the wait times out; the winner never shows",
                        with { $0.standbyDisconnectOnFailover = true; $0.reconnectAttempts = 0 }, [
            Step(check(0, false), .disconnectingSiblings(until: 30), [disconnected, .disconnectWALReceiver, .scheduleTimer(at: 30)]),
            Step(.timer(now: 20), .disconnectingSiblings(until: 30), [], says: "ignoring"),
            Step(.timer(now: 30), .electing, [.gatherElection], says: "sibling_nodes_disconnect_timeout (30 s) passed"),
            Step(.election(lose(31)), .waitingForPrimary(candidate: 3, deadline: 91),
                 [.enableWALReceiver, .waitForPrimary(candidate: 3, deadline: 91)]),
            Step(.timer(now: 91), .disconnectingSiblings(until: 121), [.disconnectWALReceiver, .scheduleTimer(at: 121)]),
        ]),
        MachineScenario("standby_disconnect_on_failover: a vetoed election reruns with the WAL receiver stopped again",
                        with { $0.standbyDisconnectOnFailover = true; $0.reconnectAttempts = 0; $0.hasValidationCommand = true }, [
            Step(check(0, false), .disconnectingSiblings(until: 30), [disconnected, .disconnectWALReceiver, .scheduleTimer(at: 30)]),
            Step(.siblingsDisconnected(now: 1), .electing, [.gatherElection]),
            Step(.election(win(2)), .validating(term: 8), [.enableWALReceiver, validation(win(2))]),
            Step(.validation(now: 3, allowed: false, reason: "vetoed by Lua"), .waitingToRerun(until: 18),
                 [.scheduleTimer(at: 18), .scheduleCheck(at: 5)]),
            Step(.timer(now: 18), .disconnectingSiblings(until: 48), [.disconnectWALReceiver, .scheduleTimer(at: 48)]),
        ]),
        MachineScenario("paused: checks and notifications only, never a failover step", [
            Step(.pauseChanged(now: 0, paused: true), .paused, [.scheduleCheck(at: 2)], says: "PAUSE: automatic failover paused"),
            Step(check(2, false), .paused, [disconnected, .scheduleCheck(at: 4)], says: "PAUSE: unable to connect"),
            Step(check(4, false), .paused, [.scheduleCheck(at: 6)], says: "still unreachable"),
            Step(.election(win(5)), .paused, [], says: "PAUSE: ignoring an election result"),
            Step(.timer(now: 6), .paused, [], says: "PAUSE: ignoring"),
            Step(.primaryAppeared(now: 7, nodeID: 3), .paused, [], says: "PAUSE: ignoring"),
            Step(.validation(now: 8, allowed: true, reason: nil), .paused, [], says: "PAUSE: ignoring"),
            Step(.siblingsDisconnected(now: 8), .paused, []),
            Step(check(9, true), .paused, [reconnected("reconnected to upstream node \"alpha\" (ID: 1)"), .scheduleCheck(at: 11)]),
            Step(check(11, true), .paused, [.scheduleCheck(at: 13)]),
            Step(.pauseChanged(now: 12, paused: true), .paused, [], says: "PAUSE: ignoring a pause request"),
            Step(.pauseChanged(now: 13, paused: false), .monitoring, [.scheduleCheck(at: 13)], says: "monitoring resumed"),
            Step(.pauseChanged(now: 14, paused: false), .monitoring, [], says: "ignoring an unpause request"),
        ]),
        MachineScenario("paused while reconnecting; unpaused with the upstream still lost", [
            Step(check(0, false), .reconnecting(since: 0, attempts: 1), [disconnected, .scheduleCheck(at: 10)]),
            Step(.pauseChanged(now: 5, paused: true), .paused, [.scheduleCheck(at: 7)], says: "was reconnecting"),
            Step(check(7, false), .paused, [.scheduleCheck(at: 9)]),
            Step(.pauseChanged(now: 9, paused: false), .reconnecting(since: 9, attempts: 1), [.scheduleCheck(at: 19)],
                 says: "(attempt 1 of 3 failed while paused); 2 more attempts will be made, one every 10 s, before a failover"),
            Step(check(19, false), .reconnecting(since: 9, attempts: 2), [.scheduleCheck(at: 29)], says: "attempt 2 of 3"),
            Step(check(29, false), .electing, [.gatherElection], says: "in 3 attempts over 20 s"),
        ]),
        MachineScenario("paused with the upstream lost, reconnect_attempts = 1: unpaused, the check at once elects at once",
                        with { $0.reconnectAttempts = 1 }, [
            Step(.pauseChanged(now: 0, paused: true), .paused, [.scheduleCheck(at: 2)]),
            Step(check(2, false), .paused, [disconnected, .scheduleCheck(at: 4)], says: "PAUSE: unable to connect"),
            Step(.pauseChanged(now: 3, paused: false), .monitoring, [.scheduleCheck(at: 3)],
                 says: "checking upstream node \"alpha\" (ID: 1) now"),
            Step(check(3, false), .electing, [disconnected, .gatherElection], says: "(reconnect_attempts is 1); electing"),
        ]),
        MachineScenario("paused while promoting: the result is recorded, unpaused as primary", from: .electing, [
            Step(.election(win(0)), .promoting(term: 8), [.promote(term: 8)]),
            Step(.pauseChanged(now: 1, paused: true), .paused, [.scheduleCheck(at: 3)]),
            Step(.promotion(now: 2, succeeded: true, detail: ""), .paused, [promotedEvent], says: "PAUSE: this node"),
            Step(check(3, true), .paused, [], says: "PAUSE: ignoring an upstream check"),
            Step(.pauseChanged(now: 4, paused: false), .primary, [], says: "this node \"bravo\" (ID: 2) is the primary"),
        ]),
        MachineScenario("paused while promoting: the promotion fails", from: .promoting(term: 8), [
            Step(.pauseChanged(now: 1, paused: true), .paused, [.scheduleCheck(at: 3)]),
            Step(.promotion(now: 2, succeeded: false, detail: "exit code 1"), .paused,
                 [.notify(event: .promoteError, success: false, details: "promote_command failed: exit code 1")]),
            Step(.pauseChanged(now: 4, paused: false), .monitoring, [.scheduleCheck(at: 4)]),
        ]),
        MachineScenario("paused while following: the follow succeeds, unpaused following the new primary",
                        from: .following(primaryID: 3), [
            Step(.pauseChanged(now: 1, paused: true), .paused, [.scheduleCheck(at: 3)]),
            Step(.follow(now: 2, succeeded: true, primaryID: 3, detail: ""), .paused, [followedEvent(3)]),
            Step(.pauseChanged(now: 4, paused: false), .monitoring, [.scheduleCheck(at: 4)], says: "node \"charlie\" (ID: 3)"),
        ]),
        MachineScenario("paused while following: the follow fails", from: .following(primaryID: 3), [
            Step(.pauseChanged(now: 1, paused: true), .paused, [.scheduleCheck(at: 3)]),
            Step(.follow(now: 2, succeeded: false, primaryID: 3, detail: "exit code 23"), .paused,
                 [.notify(event: .failoverFollow, success: false, details: "unable to follow new primary node 3: exit code 23")]),
        ]),
        MachineScenario("paused with the WAL receiver stopped: it is started again",
                        with { $0.standbyDisconnectOnFailover = true; $0.reconnectAttempts = 0 }, [
            Step(check(0, false), .disconnectingSiblings(until: 30), [disconnected, .disconnectWALReceiver, .scheduleTimer(at: 30)]),
            Step(.pauseChanged(now: 1, paused: true), .paused, [.enableWALReceiver, .scheduleCheck(at: 3)]),
            Step(.timer(now: 30), .paused, []),
        ]),
        MachineScenario("a primary pauses and resumes as primary", from: .primary, [
            Step(check(0, false), .primary, [], says: "ignoring"),
            Step(.pauseChanged(now: 1, paused: true), .paused, []),
            Step(.pauseChanged(now: 2, paused: false), .primary, []),
        ]),
        MachineScenario("stale events are ignored with a debug line", [
            Step(.timer(now: 1), .monitoring, [], says: "ignoring a timer at 1 s in state monitoring"),
            Step(.election(win(2)), .monitoring, [], says: "ignoring an election result"),
            Step(.promotion(now: 3, succeeded: true, detail: ""), .monitoring, []),
        ]),
    ]
}

@Suite("FailoverMachine: observations in, state and actions out")
struct FailoverMachineTests {
    @Test("scenario", arguments: Runs.all)
    func scenario(_ s: MachineScenario) {
        var machine = s.machine()
        for (index, step) in s.steps.enumerated() {
            let actions = machine.handle(step.event)
            let logs = actions.compactMap { action -> String? in
                if case .log(_, let message) = action { message } else { nil }
            }
            let rest = actions.filter { if case .log = $0 { false } else { true } }
            #expect(machine.state == step.state, "step \(index + 1): \(step.event)")
            #expect(rest == step.actions, "step \(index + 1): \(step.event)")
            #expect(logs.count == 1, "step \(index + 1): one cycle, one sentence: \(logs)")
            if let phrase = step.says {
                #expect(logs.contains { $0.contains(phrase) }, "step \(index + 1): \(logs) should say \(phrase)")
            }
        }
    }

    @Test("the check that notices the loss is attempt 1 of reconnect_attempts: elect (N - 1) × interval after it, at once for N ≤ 1",
          arguments: 0...6)
    func detectingCheckIsTheFirstAttempt(attempts: Int) {
        var machine = FailoverMachine(settings: Runs.with { $0.reconnectAttempts = attempts; $0.reconnectInterval = 1.5 },
                                      upstreamNodeID: 1)
        var now = 4.0
        var checks = 0
        while machine.state != .electing, checks <= attempts {
            let actions = machine.handle(Runs.check(now, false))
            checks += 1
            guard case .reconnecting(let since, let made) = machine.state else { break }
            #expect(since == 4 && made == checks, "check \(checks) at \(now)")
            #expect(actions.contains(.scheduleCheck(at: now + 1.5)))
            now += 1.5
        }
        #expect(machine.state == .electing)
        #expect(checks == max(attempts, 1))
        #expect(now == 4 + 1.5 * Double(max(attempts - 1, 0)), "elected at \(now)")
    }

    @Test("there are at least 25 machine scenarios and election scenarios together")
    func scenarioCount() {
        #expect(Runs.all.count + FailoverElectionTests.scenarios.count >= 50)
    }

    @Test("every row of Transitions.table is used by handle in the scenarios")
    func everyRowIsUsed() {
        var used = Set<TransitionID>()
        for s in Runs.all {
            var machine = s.machine()
            for step in s.steps {
                _ = machine.handle(step.event)
                if let id = machine.lastTransition { used.insert(id) }
            }
        }
        let unused = Transitions.table.map(\.id).filter { !used.contains($0) }
        #expect(unused.isEmpty, "rows never used: \(unused)")
    }

    @Test("the table has one row per TransitionID, each with a comment, in a well-formed order")
    func tableShape() {
        let ids = Transitions.table.map(\.id)
        #expect(ids.count == Set(ids).count)
        #expect(Set(ids) == Set(TransitionID.allCases))
        #expect(Transitions.table.allSatisfy { !$0.comment.isEmpty })
        // a catch-all row (any event) must be the last of its state's rows
        for (index, row) in Transitions.table.enumerated() where row.on == nil {
            let later = Transitions.table[(index + 1)...].filter { $0.from == row.from }
            #expect(later.isEmpty, "\(row.id) hides \(later.map(\.id))")
        }
    }

    @Test("every state is reachable and none is a dead end")
    func reachability() {
        let targets = Set(Transitions.table.map(\.to))
        let sources = Set(Transitions.table.compactMap(\.from))
        let anyState = Transitions.table.contains { $0.from == nil }
        for kind in MonitorState.Kind.allCases {
            #expect(targets.contains(kind), "nothing leads to \(kind)")
            #expect(sources.contains(kind) || anyState, "nothing leaves \(kind)")
            #expect(Transitions.table.contains { ($0.from == kind || $0.from == nil) && $0.to != kind },
                    "\(kind) is a dead end")
        }
    }

    @Test("graphviz draws every row")
    func graphviz() {
        let dot = Transitions.graphviz()
        #expect(dot.hasPrefix("digraph keeld {"))
        for row in Transitions.table { #expect(dot.contains(row.id.rawValue)) }
        #expect(dot.contains("\"monitoring\" -> \"reconnecting\""))
    }

    /// A deterministic stream of events of every kind (a linear congruential generator).
    static func events(count: Int, seed: UInt64, pauses: Bool) -> [MonitorEvent] {
        var x = seed
        var now = 0.0
        var result: [MonitorEvent] = []
        for _ in 0..<count {
            x = x &* 6364136223846793005 &+ 1442695040888963407
            let pick = Int((x >> 33) % 13)
            now += Double((x >> 20) % 20)
            let bit = (x >> 40) & 1 == 1
            let event: MonitorEvent = switch pick {
            case 0, 1, 2: .upstreamCheck(now: now, reachable: bit && pick == 0)
            case 3: .election(Runs.win(now))
            case 4: .election(Runs.lose(now))
            case 5: .election(Runs.existing(now))
            case 6: .validation(now: now, allowed: bit, reason: nil)
            case 7: .promotion(now: now, succeeded: bit, detail: "")
            case 8: .primaryAppeared(now: now, nodeID: bit ? 3 : 1)
            case 9: .follow(now: now, succeeded: bit, primaryID: 3, detail: "")
            case 10: pauses ? .pauseChanged(now: now, paused: bit) : .timer(now: now)
            case 11: .siblingsDisconnected(now: now)
            default: .timer(now: now)
            }
            result.append(event)
        }
        return result
    }

    @Test("a paused machine never starts a failover step, whatever it is fed", arguments: [1, 2, 3, 4, 5] as [UInt64])
    func pausedNeverActs(seed: UInt64) {
        var machine = FailoverMachine(settings: Runs.with { $0.reconnectAttempts = 0 }, initial: .paused, upstreamNodeID: 1)
        for event in Self.events(count: 400, seed: seed, pauses: false) {
            let actions = machine.handle(event)
            #expect(actions.allSatisfy { !$0.isFailoverStep }, "\(event) -> \(actions)")
            #expect(machine.state == .paused)
        }
    }

    @Test("failover=manual never promotes or follows, whatever it is fed", arguments: [6, 7, 8, 9, 10] as [UInt64])
    func manualNeverActs(seed: UInt64) {
        for initial in [MonitorState.monitoring, .reconnecting(since: 0, attempts: 1), .degraded(since: 0), .paused] {
            var machine = FailoverMachine(settings: Runs.with { $0.mode = .manual; $0.reconnectAttempts = 2 },
                                          initial: initial, upstreamNodeID: 1)
            for event in Self.events(count: 400, seed: seed, pauses: true) {
                let actions = machine.handle(event)
                #expect(actions.allSatisfy { !$0.isFailoverStep }, "\(initial): \(event) -> \(actions)")
            }
        }
    }

    @Test("every handle logs exactly one sentence, also on random input", arguments: [11, 12] as [UInt64])
    func oneSentence(seed: UInt64) {
        var machine = FailoverMachine(settings: Runs.with { $0.reconnectAttempts = 2; $0.hasValidationCommand = true },
                                      upstreamNodeID: 1, nodeNames: Cluster.names)
        for event in Self.events(count: 500, seed: seed, pauses: true) {
            let logs = machine.handle(event).filter { if case .log = $0 { true } else { false } }
            #expect(logs.count == 1)
        }
    }

    @Test("restarted from any intermediate state (keeld crashed mid-failover), a run ends the same way",
          arguments: Runs.all.filter { $0.name.hasPrefix("full run") || $0.name.hasPrefix("validation veto, rerun") })
    func replayFromEveryPrefix(_ s: MachineScenario) {
        var original = s.machine()
        var states: [MonitorState] = [original.state]
        var steps: [[MonitorAction]] = []
        for step in s.steps {
            steps.append(original.handle(step.event).filter { if case .log = $0 { false } else { true } })
            states.append(original.state)
        }
        for k in 1..<s.steps.count {
            var restarted = s.machine(initial: states[k])
            var promotions: [Int: Int] = [:]
            for (offset, step) in s.steps[k...].enumerated() {
                let actions = restarted.handle(step.event).filter { if case .log = $0 { false } else { true } }
                #expect(actions == steps[k + offset], "restart at step \(k + 1), step \(k + offset + 1)")
                for case .promote(let term) in actions { promotions[term, default: 0] += 1 }
            }
            #expect(restarted.state == original.state)
            #expect(promotions.values.allSatisfy { $0 <= 1 })
        }
    }

    @Test("settings from a configuration file: repmgr's keys and defaults")
    func settingsFromConfig() throws {
        let defaults = FailoverSettings(config: try ConfigFixtures.parse(""))
        #expect(defaults == FailoverSettings(nodeID: 1))
        let config = try ConfigFixtures.parse("""
            failover=automatic
            promote_command='keel standby promote'
            follow_command='keel standby follow --upstream-node-id=%n'
            priority=50
            location='dc2'
            monitor_interval_secs=3
            reconnect_attempts=4
            reconnect_interval=5
            primary_visibility_consensus=on
            standby_disconnect_on_failover=true
            sibling_nodes_disconnect_timeout=12
            failover_validation_command='lua:/etc/keel/validate.lua'
            election_rerun_interval=20
            primary_notification_timeout=45
            degraded_monitoring_timeout=600
            always_promote=yes
            """)
        #expect(FailoverSettings(config: config) == FailoverSettings(
            nodeID: 1, mode: .automatic, priority: 50, location: "dc2", monitorInterval: 3, reconnectAttempts: 4,
            reconnectInterval: 5, primaryVisibilityConsensus: true, standbyDisconnectOnFailover: true,
            siblingNodesDisconnectTimeout: 12, hasValidationCommand: true, electionRerunInterval: 20,
            primaryNotificationTimeout: 45, degradedMonitoringTimeout: 600, alwaysPromote: true))
        #expect(FailoverSettings(config: config).primaryVisibilityWindow == 6)
        #expect(FailoverSettings(config: try ConfigFixtures.parse("degraded_monitoring_timeout=0\n"))
            .degradedMonitoringTimeout == nil)
    }

    @Test("upstream and primary bookkeeping follow the run")
    func bookkeeping() {
        var machine = FailoverMachine(settings: Runs.base, initial: .electing, upstreamNodeID: 1)
        _ = machine.handle(.election(Runs.lose(0)))
        _ = machine.handle(.primaryAppeared(now: 1, nodeID: 3))
        _ = machine.handle(.follow(now: 2, succeeded: true, primaryID: 3, detail: ""))
        #expect(machine.upstreamNodeID == 3)
        #expect(!machine.isPrimary)
        var winner = FailoverMachine(settings: Runs.base, initial: .electing, upstreamNodeID: 1)
        _ = winner.handle(.election(Runs.win(0)))
        _ = winner.handle(.promotion(now: 1, succeeded: true, detail: ""))
        #expect(winner.upstreamNodeID == nil)
        #expect(winner.isPrimary)
        #expect(winner.lastTransition == .promoted)
    }
}

@Suite("seconds in log lines")
struct FormatSecondsTests {
    @Test("whole seconds as integers, fractions to the millisecond without trailing zeros",
          arguments: [(10.0, "10"), (2.5, "2.5"), (2.0059581129999984, "2.006"), (0.0004, "0"), (0.25, "0.25"), (-1.5, "-1.5")])
    func format(_ value: Double, _ expected: String) {
        #expect(formatSeconds(value) == expected)
    }
}

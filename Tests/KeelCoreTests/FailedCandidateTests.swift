import Testing
@testable import KeelCore

/// A winner that does not become primary within `primary_notification_timeout` (its `promote_command`
/// failed) is left out of the rerun, so the next standby is elected instead of the same node forever
/// (where Keel differs from repmgr). The exclusions last until the failover ends.
@Suite("Failed candidates: a winner that never became primary is not elected again")
struct FailedCandidateTests {
    typealias C = Cluster

    static let excluded3 = "excluding node \"charlie\" (ID: 3): elected but not primary after primary_notification_timeout"
    static let excluded4 = "excluding node \"delta\" (ID: 4): elected but not primary after primary_notification_timeout"

    /// charlie (6000) beats this node (5000) and stays a reachable standby in recovery.
    static func charlieAhead(_ now: Double) -> ElectionInput { C.input([C.standby(3, lsn: 0x6000)], now: now) }
    /// charlie (6000) beats delta (5800), which beats this node (5000).
    static func threeStandbys(_ now: Double) -> ElectionInput {
        C.input([C.standby(3, lsn: 0x6000), C.standby(4, lsn: 0x5800)], now: now)
    }
    /// This node has priority 0: charlie is the only eligible standby.
    static func onlyCharlie(_ now: Double) -> ElectionInput {
        C.input(me: C.me(priority: 0), [C.standby(3, lsn: 0x6000)], now: now)
    }

    static let scenarios: [MachineScenario] = [
        MachineScenario("the rerun after a timed-out winner elects the next candidate (this node)", from: .electing, [
            Step(.election(charlieAhead(0)), .waitingForPrimary(candidate: 3, deadline: 60),
                 [.waitForPrimary(candidate: 3, deadline: 60)], says: "promotion candidate is node \"charlie\" (ID: 3)"),
            Step(.timer(now: 60), .electing, [.gatherElection],
                 says: "node \"charlie\" (ID: 3) did not become primary within 60 s (primary_notification_timeout) "
                     + "and is excluded from the election"),
            Step(.election(charlieAhead(61)), .promoting(term: 8), [.promote(term: 8)], says: excluded3),
        ]),
        MachineScenario("exclusions add up: charlie, then delta time out, then this node wins", from: .electing, [
            Step(.election(threeStandbys(0)), .waitingForPrimary(candidate: 3, deadline: 60),
                 [.waitForPrimary(candidate: 3, deadline: 60)]),
            Step(.timer(now: 60), .electing, [.gatherElection]),
            Step(.election(threeStandbys(61)), .waitingForPrimary(candidate: 4, deadline: 121),
                 [.waitForPrimary(candidate: 4, deadline: 121)], says: "promotion candidate is node \"delta\" (ID: 4)"),
            Step(.timer(now: 121), .electing, [.gatherElection], says: "node \"delta\" (ID: 4) did not become primary"),
            Step(.election(threeStandbys(122)), .promoting(term: 8), [.promote(term: 8)], says: excluded4),
        ]),
        MachineScenario("only the failed candidate is eligible: no candidate, degraded; it is followed once primary",
                        from: .electing, [
            Step(.election(onlyCharlie(0)), .waitingForPrimary(candidate: 3, deadline: 60),
                 [.waitForPrimary(candidate: 3, deadline: 60)]),
            Step(.timer(now: 60), .electing, [.gatherElection]),
            Step(.election(onlyCharlie(61)), .degraded(since: 61),
                 [Runs.aborted(Election.evaluate(onlyCharlie(61), settings: Runs.base, failedCandidates: [3]).sentence),
                  .scheduleCheck(at: 63)],
                 says: "no eligible promotion candidate: node \"bravo\" (ID: 2) has priority 0 and never promotes; "
                     + excluded3),
            Step(.primaryAppeared(now: 70, nodeID: 3), .following(primaryID: 3), [.follow(primaryID: 3)]),
            Step(.follow(now: 72, succeeded: true, primaryID: 3, detail: ""), .monitoring,
                 [Runs.followedEvent(3), .scheduleCheck(at: 74)]),
        ]),
        MachineScenario("the failed candidate promoted late: it is followed, not competed with", from: .electing, [
            Step(.election(charlieAhead(0)), .waitingForPrimary(candidate: 3, deadline: 60),
                 [.waitForPrimary(candidate: 3, deadline: 60)]),
            Step(.timer(now: 60), .electing, [.gatherElection]),
            Step(.election(C.input([C.standby(3, lsn: 0x6000, inRecovery: false)], now: 61)), .following(primaryID: 3),
                 [.follow(primaryID: 3)], says: "node \"charlie\" (ID: 3) is not in recovery"),
        ]),
        MachineScenario("standby_disconnect_on_failover: the rerun stops the WAL receiver, then excludes the winner",
                        Runs.with { $0.standbyDisconnectOnFailover = true }, from: .electing, [
            Step(.election(charlieAhead(0)), .waitingForPrimary(candidate: 3, deadline: 60),
                 [.waitForPrimary(candidate: 3, deadline: 60)]),
            Step(.timer(now: 60), .disconnectingSiblings(until: 90), [.disconnectWALReceiver, .scheduleTimer(at: 90)],
                 says: "is excluded from the election"),
            Step(.siblingsDisconnected(now: 61), .electing, [.gatherElection]),
            Step(.election(charlieAhead(62)), .promoting(term: 8), [.enableWALReceiver, .promote(term: 8)], says: excluded3),
        ]),
    ]

    @Test("scenario", arguments: scenarios)
    func scenario(_ s: MachineScenario) {
        FailoverMachineTests().scenario(s)
    }

    /// Runs `events` on a fresh machine (this node 2, upstream 1) from `.electing`.
    static func run(_ events: [MonitorEvent], settings: FailoverSettings = Runs.base) -> FailoverMachine {
        var machine = FailoverMachine(settings: settings, initial: .electing, upstreamNodeID: 1, nodeNames: C.names)
        for event in events { _ = machine.handle(event) }
        return machine
    }

    @Test("the timed-out winner is remembered, and survives a configuration reload")
    func remembered() {
        let machine = Self.run([.election(Self.charlieAhead(0)), .timer(now: 60)])
        #expect(machine.failedCandidates == [3])
        #expect(machine.reconfigured(with: Runs.with { $0.priority = 50 }).failedCandidates == [3])
    }

    @Test("exclusions reset when the upstream comes back: the next failover elects charlie again")
    func resetOnUpstreamReturn() {
        var machine = Self.run([.election(Self.charlieAhead(0)), .timer(now: 60), .upstreamCheck(now: 61, reachable: true)],
                               settings: Runs.with { $0.reconnectAttempts = 0 })
        #expect(machine.state == .monitoring)
        #expect(machine.failedCandidates.isEmpty)
        _ = machine.handle(.upstreamCheck(now: 63, reachable: false))
        #expect(machine.state == .electing)
        _ = machine.handle(.election(Self.charlieAhead(64)))
        #expect(machine.state == .waitingForPrimary(candidate: 3, deadline: 124))
    }

    @Test("exclusions reset when the original primary reappears, a primary appears, or this node is promoted")
    func resetWhenTheFailoverEnds() {
        let timedOut: [MonitorEvent] = [.election(Self.threeStandbys(0)), .timer(now: 60)]
        // The rerun elected delta; the original primary comes back while waiting for it.
        let back = Self.run(timedOut + [.election(Self.threeStandbys(61)), .primaryAppeared(now: 62, nodeID: 1)])
        #expect(back.state == .monitoring)
        #expect(back.failedCandidates.isEmpty)
        // delta became primary: following it ends the failover.
        let following = Self.run(timedOut + [.election(Self.threeStandbys(61)), .primaryAppeared(now: 62, nodeID: 4)])
        #expect(following.state == .following(primaryID: 4))
        #expect(following.failedCandidates.isEmpty)
        // This node won the rerun and promoted.
        let promoted = Self.run([.election(Self.charlieAhead(0)), .timer(now: 60), .election(Self.charlieAhead(61)),
                                 .promotion(now: 62, succeeded: true, detail: "")])
        #expect(promoted.state == .primary)
        #expect(promoted.failedCandidates.isEmpty)
    }

    @Test("the election: a failed candidate is excluded with its reason, the sentence says so")
    func electionExcludes() {
        let report = Election.evaluate(Self.threeStandbys(0), settings: C.automatic, failedCandidates: [3])
        #expect(report.outcome == .lost(winner: 4))
        #expect(report.candidates.map(\.nodeID) == [4, 2])
        #expect(report.failedCandidatesExcluded == [3])
        #expect(report.exclusions == [.init(nodeID: 3, reason: Self.excluded3)])
        #expect(report.sentence.hasPrefix("promotion candidate is node \"delta\" (ID: 4) (ranked first of 2"))
        #expect(report.sentence.contains("priority 100; " + Self.excluded3 + "; 3 of 3 nodes sharing upstream"))
        #expect(Election.decide(Self.threeStandbys(0), settings: C.automatic, failedCandidates: [3]) == .lost(winner: 4))
    }

    @Test("the election: an ineligible failed candidate keeps its own reason; none given changes nothing")
    func electionIneligibleFirst() {
        let unreachable = C.input([C.standby(3, reachable: false), C.standby(4)])
        let report = Election.evaluate(unreachable, settings: C.automatic, failedCandidates: [3])
        #expect(report.exclusions == [.init(nodeID: 3, reason: "node \"charlie\" (ID: 3) is unreachable")])
        #expect(report.failedCandidatesExcluded.isEmpty)
        #expect(!report.sentence.contains("excluding"))
        #expect(Election.evaluate(Self.threeStandbys(0), settings: C.automatic) == Election.evaluate(
            Self.threeStandbys(0), settings: C.automatic, failedCandidates: []))
        #expect(Election.decide(Self.threeStandbys(0), settings: C.automatic) == .lost(winner: 3))
    }

    @Test("the election: a failed candidate still streaming from the lost primary is not excluded (this node alone is cut off: electing past it would promote beside a live primary)")
    func electionKeepsCandidateSeeingPrimary() {
        let partial = C.input([C.standby(3, lsn: 0x6000, seesPrimary: true), C.standby(4)])
        let report = Election.evaluate(partial, settings: C.automatic, failedCandidates: [3])
        #expect(report.failedCandidatesExcluded.isEmpty)
        #expect(report.outcome == .lost(winner: 3))
    }
}

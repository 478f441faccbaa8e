import Testing
@testable import KeelCore

/// The election under `synchronous_mode = quorum:N`: step 8 (`SyncFailoverRule`) on top of repmgr's
/// rules, and the machine's `electionBlocked` row.
@Suite("synchronous mode: the election")
struct SyncElectionTests {
    typealias C = Cluster
    static let sync = FailoverSettings(nodeID: 2, mode: .automatic, synchronousModeSettings: .quorum(1))
    static let record = SyncRecord(generation: 3, set: SyncSet(count: 1, members: [2, 3]))

    static func standby(_ id: Int, lsn: UInt64, reachable: Bool = true, priority: Int = 100, record: SyncRecord? = record,
                        caughtUp: Bool = true) -> PeerView {
        var view = C.standby(id, lsn: lsn, priority: priority, reachable: reachable)
        view.syncRecord = reachable ? record : nil
        view.replayCaughtUp = caughtUp
        return view
    }

    static func outcome(_ me: PeerView, _ peers: [PeerView], settings: FailoverSettings = sync) -> ElectionReport {
        Election.evaluate(C.input(me: me, peers + [C.witness()]), settings: settings)
    }

    @Test("both members of ANY 1 (2, 3) report: the most advanced wins, the sentence gives the proof")
    func proven() {
        let report = Self.outcome(Self.standby(2, lsn: 0x5000), [Self.standby(3, lsn: 0x6000)])
        #expect(report.outcome == .lost(winner: 3))
        #expect(report.sentence.contains("holds every acknowledged commit: 2 of the synchronous set ANY 1 (\"bravo\", \"charlie\") reported"))
        let mine = Self.outcome(Self.standby(2, lsn: 0x7000), [Self.standby(3, lsn: 0x6000)])
        #expect(mine.outcome == .won(term: 8))
    }

    @Test("a member of ANY 1 (2, 3) is unreachable: nothing proven, no promotion, the missing node named")
    func missingMember() {
        let report = Self.outcome(Self.standby(2, lsn: 0x7000), [Self.standby(3, lsn: 0x6000, reachable: false)])
        #expect(report.cancellation == .synchronousQuorum)
        #expect(report.sentence.contains("only 1 of the 2 standbys of the synchronous set"))
        #expect(report.sentence.contains("not reporting: node \"charlie\" (ID: 3)"))
        // the same without synchronous mode: this node is promoted
        #expect(Self.outcome(Self.standby(2, lsn: 0x7000), [Self.standby(3, lsn: 0x6000, reachable: false)],
                             settings: C.automatic).outcome == .won(term: 8))
    }

    @Test("the most advanced member has priority 0: the best candidate may lack commits, no promotion")
    func advancedMemberNeverPromotes() {
        let report = Self.outcome(Self.standby(2, lsn: 0x5000), [Self.standby(3, lsn: 0x6000, priority: 0)])
        #expect(report.cancellation == .synchronousQuorum)
        #expect(report.sentence.contains("may lack acknowledged commits"))
    }

    @Test("a standby outside the set that is further ahead may win: it holds everything the set proved")
    func outsiderAhead() {
        let report = Self.outcome(Self.standby(2, lsn: 0x5000), [Self.standby(3, lsn: 0x5000), Self.standby(4, lsn: 0x9000)])
        #expect(report.outcome == .lost(winner: 4))
    }

    @Test("quorum mode and no record anywhere: blocked")
    func noRecord() {
        let report = Self.outcome(Self.standby(2, lsn: 0x5000, record: nil), [Self.standby(3, lsn: 0x6000, record: nil)])
        #expect(report.cancellation == .synchronousQuorum)
    }

    @Test("blocked: failover_blocked recorded, the election reruns after election_rerun_interval")
    func machineBlocked() {
        var machine = FailoverMachine(settings: Runs.with { $0.synchronousMode = .quorum(1) }, initial: .electing,
                                      upstreamNodeID: 1, nodeNames: C.names)
        let input = C.input(me: Self.standby(2, lsn: 0x7000), [Self.standby(3, lsn: 0x6000, reachable: false), C.witness()], now: 0)
        let actions = machine.handle(.election(input))
        #expect(machine.lastTransition == .electionBlocked)
        #expect(machine.state == .waitingToRerun(until: 15))
        #expect(actions.contains { if case .notify(.failoverBlocked, false, _) = $0 { true } else { false } })
        #expect(actions.contains(.scheduleTimer(at: 15)))
    }
}

extension FailoverSettings {
    /// Test shorthand: these settings with `synchronous_mode`.
    init(nodeID: Int, mode: FailoverMode, synchronousModeSettings: SynchronousMode) {
        self.init(nodeID: nodeID, mode: mode)
        synchronousMode = synchronousModeSettings
    }
}

extension Runs {
    /// `synchronous_mode = quorum:1`, ANY 1 (2, 3) recorded; charlie (3) unreachable.
    static func syncBlocked(_ now: Double) -> ElectionInput {
        let record = SyncElectionTests.record
        return C.input(me: SyncElectionTests.standby(2, lsn: 0x7000, record: record),
                       [SyncElectionTests.standby(3, lsn: 0x6000, reachable: false), C.witness()], now: now)
    }

    static let syncSettings = with { $0.synchronousMode = .quorum(1) }

    static let synchronous: [MachineScenario] = [
        MachineScenario("synchronous_mode: no standby proven complete, failover_blocked, rerun, then the member reports",
                        syncSettings, from: .electing, [
            Step(.election(syncBlocked(0)), .waitingToRerun(until: 15), [
                .notify(event: .failoverBlocked, success: false,
                        details: Election.evaluate(syncBlocked(0), settings: syncSettings).sentence),
                .scheduleTimer(at: 15), .scheduleCheck(at: 2)], says: "no promotion: only 1 of the 2 standbys"),
            Step(check(2, false), .waitingToRerun(until: 15), [.scheduleCheck(at: 4)]),
            Step(.timer(now: 15), .electing, [.gatherElection], says: "electing a promotion candidate again"),
        ]),
    ]
}

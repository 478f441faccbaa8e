import Testing
@testable import KeelCore

/// A small cluster to elect in: primary "alpha" (1) in dc1 is lost; this node is "bravo" (2);
/// siblings "charlie" (3), "delta" (4), "echo" (5); witness "whiskey" (9).
enum Cluster {
    static let names = [1: "alpha", 2: "bravo", 3: "charlie", 4: "delta", 5: "echo", 9: "whiskey"]

    static let lostPrimary = PeerView(nodeID: 1, name: "alpha", type: .primary, location: "dc1")

    /// A standby of the lost primary, reachable, in recovery, at `lsn` (hex value).
    static func standby(_ id: Int, lsn: UInt64? = 0x5000, priority: Int = 100, location: String = "dc1",
                        reachable: Bool = true, active: Bool = true, upstream: Int? = 1, seesPrimary: Bool = false,
                        newPrimary: Int? = nil, inRecovery: Bool? = true) -> PeerView {
        PeerView(nodeID: id, name: names[id] ?? "node\(id)", type: .standby, upstreamNodeID: upstream, location: location,
                 priority: priority, active: active, reachable: reachable, isInRecovery: reachable ? inRecovery : nil,
                 lastReceivedLSN: reachable ? lsn.map(LSN.init) : nil, seesPrimary: seesPrimary,
                 upstreamIsNewPrimary: newPrimary)
    }

    /// This node (2 unless told otherwise).
    static func me(_ id: Int = 2, lsn: UInt64? = 0x5000, priority: Int = 100, location: String = "dc1") -> PeerView {
        standby(id, lsn: lsn, priority: priority, location: location)
    }

    /// The witness (9), registered with the primary as upstream.
    static func witness(location: String = "dc1", reachable: Bool = true, seesPrimary: Bool = false,
                        active: Bool = true) -> PeerView {
        PeerView(nodeID: 9, name: "whiskey", type: .witness, upstreamNodeID: 1, location: location, priority: 0,
                 active: active, reachable: reachable, isInRecovery: reachable ? false : nil, seesPrimary: seesPrimary)
    }

    static func input(me: PeerView = me(), _ peers: [PeerView], primary: PeerView = lostPrimary, term: Int = 7,
                      now: Double = 100) -> ElectionInput {
        ElectionInput(now: now, me: me, lostPrimary: primary, peers: [primary] + peers, term: term)
    }

    static let automatic = FailoverSettings(nodeID: 2, mode: .automatic)

    /// The lost primary reachable again, out of recovery, on `timeline`.
    static func returned(timeline: Int) -> PeerView {
        var primary = PeerView(nodeID: 1, name: "alpha", type: .primary, location: "dc1", reachable: true, isInRecovery: false)
        primary.timeline = timeline
        return primary
    }

    /// Sibling `id` promoted (out of recovery) on `timeline`.
    static func promoted(_ id: Int, timeline: Int) -> PeerView {
        var node = standby(id, inRecovery: false)
        node.timeline = timeline
        return node
    }

    /// Sibling `id` in recovery on `timeline`.
    static func inRecovery(_ id: Int, timeline: Int) -> PeerView {
        var node = standby(id)
        node.timeline = timeline
        return node
    }
}

/// What a scenario expects from the election.
enum Expected: Sendable, Equatable {
    case won(term: Int)
    case lost(winner: Int)
    case follow(Int)
    case cancelled(ElectionReport.Cancellation)
    /// Not a candidate, with a word the reason must contain.
    case notCandidate(String)
}

struct ElectionScenario: Sendable, CustomTestStringConvertible {
    let name: String
    let input: ElectionInput
    var settings = Cluster.automatic
    let expected: Expected

    var testDescription: String { name }

    init(_ name: String, _ input: ElectionInput, settings: FailoverSettings = Cluster.automatic, _ expected: Expected) {
        self.name = name
        self.input = input
        self.settings = settings
        self.expected = expected
    }
}

@Suite("Election: repmgr 5.3's do_election as a pure function")
struct FailoverElectionTests {
    typealias C = Cluster
    static let consensus = FailoverSettings(nodeID: 2, mode: .automatic, primaryVisibilityConsensus: true)

    static let scenarios: [ElectionScenario] = [
        // ranking
        .init("highest LSN wins: a sibling is ahead", C.input([C.standby(3, lsn: 0x6000)]), .lost(winner: 3)),
        .init("highest LSN wins: this node is ahead", C.input(me: C.me(lsn: 0x7000), [C.standby(3, lsn: 0x6000)]),
              .won(term: 8)),
        .init("priority breaks an LSN tie", C.input([C.standby(3, priority: 150)]), .lost(winner: 3)),
        .init("the lower priority loses an LSN tie", C.input(me: C.me(priority: 150), [C.standby(3)]), .won(term: 8)),
        .init("lowest node_id breaks a full tie (this node 2 against 3)", C.input([C.standby(3)]), .won(term: 8)),
        .init("lowest node_id breaks a full tie (this node 3 against 2)", C.input(me: C.me(3), [C.standby(2)]),
              .lost(winner: 2)),
        .init("LSN outranks priority", C.input(me: C.me(lsn: 0x5001, priority: 1), [C.standby(3, priority: 200)]),
              .won(term: 8)),
        .init("the winner among three is the one with the highest LSN",
              C.input([C.standby(3, lsn: 0x4000), C.standby(4, lsn: 0x8000), C.standby(5, lsn: 0x6000)]),
              .lost(winner: 4)),
        // priority 0
        .init("priority 0 never wins, even with the best LSN", C.input([C.standby(3, lsn: 0x9000, priority: 0)]),
              .won(term: 8)),
        .init("a priority-0 node loses and follows the winner",
              C.input(me: C.me(lsn: 0x9000, priority: 0), [C.standby(3, lsn: 0x5000)]), .lost(winner: 3)),
        .init("every candidate at priority 0: nobody is candidate",
              C.input(me: C.me(priority: 0), [C.standby(3, priority: 0)]), .notCandidate("priority 0")),
        // location
        .init("a witness in the primary's location keeps the election going",
              C.input(me: C.me(lsn: 0x6000, location: "dc2"), [C.standby(3, location: "dc2"), C.witness(location: "dc1")]),
              .won(term: 8)),
        .init("nothing from the primary's location visible: network split assumed",
              C.input(me: C.me(location: "dc2"),
                      [C.standby(3, location: "dc2"), C.witness(location: "dc1", reachable: false), C.standby(4, location: "dc2")]),
              .cancelled(.location)),
        .init("a sibling in the primary's location is enough",
              C.input(me: C.me(lsn: 0x6000, location: "dc2"), [C.standby(3, location: "dc1")]), .won(term: 8)),
        .init("alone in another location: no promotion", C.input(me: C.me(location: "dc2"), []), .cancelled(.location)),
        .init("alone in the primary's location: wins by default", C.input([]), .won(term: 8)),
        // quorum
        .init("quorum: 2 of 3 visible proceeds", C.input([C.standby(3, lsn: 0x6000), C.standby(4, reachable: false)]),
              .lost(winner: 3)),
        .init("quorum: 1 of 3 visible is cancelled",
              C.input([C.standby(3, reachable: false), C.standby(4, reachable: false)]), .cancelled(.quorum)),
        .init("quorum: exactly half (1 of 2) is cancelled", C.input([C.standby(3, reachable: false)]), .cancelled(.quorum)),
        .init("quorum: a reachable witness tips the majority (2 of 3)",
              C.input([C.standby(3, reachable: false), C.witness()]), .won(term: 8)),
        .init("quorum: without the witness 2 of 4 is cancelled",
              C.input([C.standby(3), C.standby(4, reachable: false), C.witness(reachable: false)]), .cancelled(.quorum)),
        .init("quorum: with the witness 3 of 4 proceeds",
              C.input([C.standby(3), C.standby(4, reachable: false), C.witness()]), .won(term: 8)),
        // primary_visibility_consensus
        .init("consensus on: a sibling still sees the primary", C.input([C.standby(3, seesPrimary: true)]),
              settings: consensus, .cancelled(.primaryVisible)),
        .init("consensus off: a sibling still seeing the primary does not stop it",
              C.input([C.standby(3, seesPrimary: true)]), .won(term: 8)),
        .init("consensus on: the witness still sees the primary", C.input([C.standby(3), C.witness(seesPrimary: true)]),
              settings: consensus, .cancelled(.primaryVisible)),
        .init("consensus on: an unreachable sibling's old view does not count",
              C.input([C.standby(3), C.standby(4, reachable: false, seesPrimary: true)]), settings: consensus,
              .won(term: 8)),
        // a new primary already exists
        .init("a sibling already follows a new primary", C.input([C.standby(3, newPrimary: 4), C.standby(4, reachable: false)]),
              .follow(4)),
        .init("a reachable standby is out of recovery", C.input([C.standby(3, inRecovery: false)]), .follow(3)),
        .init("a new primary wins over a missing quorum",
              C.input([C.standby(3, newPrimary: 5), C.standby(4, reachable: false), C.standby(5, reachable: false)]),
              .follow(5)),
        .init("two nodes out of recovery: no node to follow",
              C.input([C.standby(3, inRecovery: false), C.standby(4, inRecovery: false)]), .cancelled(.severalPrimaries)),
        .init("the lost primary is reachable again and not in recovery",
              C.input([C.standby(3)], primary: PeerView(nodeID: 1, name: "alpha", type: .primary, location: "dc1",
                                                      reachable: true, isInRecovery: false)),
              .cancelled(.primaryReappeared)),
        .init("the lost primary is back on its timeline while a sibling runs as primary on a later one: the sibling is followed",
              C.input([C.promoted(3, timeline: 2)], primary: C.returned(timeline: 1)), .follow(3)),
        .init("the lost primary is back, a sibling in recovery on a later timeline but none promoted in sight: it reappeared",
              C.input([C.inRecovery(3, timeline: 2)], primary: C.returned(timeline: 1)), .cancelled(.primaryReappeared)),
        .init("the lost primary is back on the newest timeline: it reappeared",
              C.input([C.inRecovery(3, timeline: 2)], primary: C.returned(timeline: 2)), .cancelled(.primaryReappeared)),
        // manual
        .init("failover=manual: not a candidate", C.input([C.standby(3)]), settings: FailoverSettings(nodeID: 2),
              .notCandidate("manual")),
        // who takes part
        .init("unreachable siblings are not candidates",
              C.input([C.standby(3, lsn: 0x9000, reachable: false), C.standby(4, lsn: 0x4000)]), .won(term: 8)),
        .init("inactive nodes are ignored: neither candidate nor counted",
              C.input([C.standby(3, lsn: 0x9000, active: false), C.standby(4, lsn: 0x9000, reachable: false, active: false)]),
              .won(term: 8)),
        .init("an inactive node out of recovery is not followed",
              C.input([C.standby(3, active: false, inRecovery: false), C.standby(4)]), .won(term: 8)),
        .init("a cascaded standby is not a sibling", C.input([C.standby(3, lsn: 0x9000, upstream: 4)]), .won(term: 8)),
        .init("a sibling without a last received LSN is skipped", C.input(me: C.me(lsn: 0x10), [C.standby(3, lsn: nil)]),
              .won(term: 8)),
        .init("the winner promotes with the next voting term", C.input([], term: 41), .won(term: 42)),
    ]

    @Test("election scenario", arguments: scenarios)
    func scenario(_ s: ElectionScenario) {
        let report = Election.evaluate(s.input, settings: s.settings)
        #expect(Election.decide(s.input, settings: s.settings) == report.outcome)
        switch s.expected {
        case .won(let term): #expect(report.outcome == .won(term: term), "\(report.sentence)")
        case .lost(let winner): #expect(report.outcome == .lost(winner: winner), "\(report.sentence)")
        case .follow(let id): #expect(report.outcome == .followExisting(primaryID: id), "\(report.sentence)")
        case .cancelled(let why):
            #expect(report.cancellation == why, "\(report.sentence)")
            #expect(report.outcome == .cancelled(reason: report.sentence))
        case .notCandidate(let word):
            #expect(report.outcome == .notCandidate(reason: report.sentence))
            #expect(report.sentence.contains(word), "\(report.sentence)")
        }
        #expect(!report.sentence.isEmpty)
    }

    @Test("there are at least 25 election scenarios")
    func scenarioCount() {
        #expect(Self.scenarios.count >= 25)
    }

    @Test("counts: visible (%v), sharing the upstream (%u), every registered node (%t)")
    func counts() {
        let input = C.input([C.standby(3), C.standby(4, reachable: false), C.standby(5, active: false),
                             C.standby(6, upstream: 3), C.witness()])
        let report = Election.evaluate(input, settings: C.automatic)
        #expect(report.visible == 3)  // me, 3, witness
        #expect(report.sharedUpstream == 4)  // me, 3, 4, witness (5 inactive, 6 cascaded)
        #expect(report.total == 7)  // 1..6 and the witness
        #expect(report.candidates.map(\.nodeID) == [2, 3])
        #expect(report.exclusions.map(\.nodeID) == [4])
    }

    @Test("the sentence names the candidate, its LSN and priority, and the visibility")
    func sentence() {
        let report = Election.evaluate(C.input([C.standby(3, lsn: 0x1_0000_6000), C.standby(4)]), settings: C.automatic)
        #expect(report.outcome == .lost(winner: 3))
        #expect(report.sentence.hasPrefix("promotion candidate is node \"charlie\" (ID: 3)"))
        #expect(report.sentence.contains("LSN 1/6000 priority 100"))
        #expect(report.sentence.contains("3 of 3 nodes sharing upstream node \"alpha\" (ID: 1) visible"))
    }

    @Test("a single candidate and an existing primary read naturally")
    func phrasing() {
        let alone = Election.evaluate(C.input([]), settings: C.automatic)
        #expect(alone.sentence.contains("the only eligible candidate: \"bravo\" (ID: 2) LSN 0/5000 priority 100"))
        let existing = Election.evaluate(C.input([C.standby(3, inRecovery: false)]), settings: C.automatic)
        #expect(existing.sentence == "node \"charlie\" (ID: 3) is not in recovery: following it as the new primary "
                    + "instead of electing one")
    }

    @Test("quorum sentence is repmgr's, with the numbers")
    func quorumSentence() {
        let report = Election.evaluate(C.input([C.standby(3, reachable: false)]), settings: C.automatic)
        #expect(report.sentence.hasPrefix("unable to reach a qualified majority of nodes: 1 of 2 nodes"))
    }

    @Test("ineligibility gives the reason, not a Bool", arguments: [
        (C.standby(3, active: false), "node \"charlie\" (ID: 3) is inactive"),
        (C.witness(), "node \"whiskey\" (ID: 9) is a witness, not a standby"),
        (C.standby(3, upstream: 4), "node \"charlie\" (ID: 3) replicates from node 4, not from node \"alpha\" (ID: 1)"),
        (C.standby(3, reachable: false), "node \"charlie\" (ID: 3) is unreachable"),
        (C.standby(3, inRecovery: false), "node \"charlie\" (ID: 3) is not in recovery"),
        (C.standby(3, inRecovery: nil), "node \"charlie\" (ID: 3) did not report whether it is in recovery"),
        (C.standby(3, priority: 0), "node \"charlie\" (ID: 3) has priority 0 and never promotes"),
        (C.standby(3, lsn: nil), "node \"charlie\" (ID: 3) reported no last received LSN"),
    ])
    func ineligibility(node: PeerView, reason: String) {
        #expect(Election.ineligibility(of: node, lostPrimary: C.lostPrimary, isSelf: false) == reason)
    }

    @Test("an eligible sibling has no ineligibility; this node needs no upstream match")
    func eligible() {
        #expect(Election.ineligibility(of: C.standby(3), lostPrimary: C.lostPrimary, isSelf: false) == nil)
        #expect(Election.ineligibility(of: C.standby(2, upstream: nil), lostPrimary: C.lostPrimary, isSelf: true) == nil)
    }

    @Test("ranking: LSN, then priority, then lowest node ID")
    func ranking() {
        let nodes = [C.standby(5, lsn: 0x10, priority: 50), C.standby(4, lsn: 0x10, priority: 100),
                     C.standby(3, lsn: 0x10, priority: 100), C.standby(2, lsn: 0x20, priority: 1)]
        #expect(nodes.sorted(by: Election.ranks(_:before:)).map(\.nodeID) == [2, 3, 4, 5])
    }

    @Test("peers listing this node or the lost primary again change nothing")
    func duplicates() {
        let input = ElectionInput(now: 1, me: C.me(), lostPrimary: C.lostPrimary,
                                  peers: [C.lostPrimary, C.me(), C.standby(3, lsn: 0x6000)], term: 1)
        let report = Election.evaluate(input, settings: C.automatic)
        #expect(report.outcome == .lost(winner: 3))
        #expect(report.sharedUpstream == 2)
        #expect(report.total == 3)
    }
}

import Testing
@testable import KeelCore

/// The fencing rule against the election, over every split of the node set into two sides: the primary
/// with the nodes it sees on one side, everything else on the other. Clusters of 2–7 nodes, with and
/// without a witness, every assignment of the two locations, with and without a priority-0 standby and
/// `primary_visibility_consensus`.
@Suite("fencing: no split leaves an unfenced primary beside a possible election")
struct FencingPartitionTests {
    /// One cluster layout: primary 1 in dc1, standbys 2…, witness 99.
    struct Layout {
        var primary = PeerView(nodeID: 1, name: "p", type: .primary, location: "dc1")
        var others: [PeerView]

        init(nodes: Int, witness: Bool, locationMask: Int, zeroPriority: Bool) {
            let standbys = nodes - 1 - (witness ? 1 : 0)
            var others = (0..<standbys).map { i in
                PeerView(nodeID: i + 2, name: "s\(i + 2)", type: .standby, upstreamNodeID: 1,
                         priority: zeroPriority && i == 0 ? 0 : 100)
            }
            if witness { others.append(PeerView(nodeID: 99, name: "w", type: .witness, upstreamNodeID: 1, priority: 0)) }
            for i in others.indices { others[i].location = locationMask & (1 << i) != 0 ? "dc2" : "dc1" }
            self.others = others
        }

        /// The primary's view when it sees exactly the nodes not in `side`.
        func primaryView(otherSide side: Set<Int>) -> [PeerView] {
            others.map { var p = $0; p.reachable = !side.contains(p.nodeID); return p }
        }

        /// Whether any standby of `side`, seeing only `side`, wins an election (`Election.decide`).
        func electionWon(on side: Set<Int>, consensus: Bool) -> Bool {
            others.filter { $0.type == .standby && side.contains($0.nodeID) }.contains { s in
                var me = s
                me.reachable = true
                me.isInRecovery = true
                me.lastReceivedLSN = LSN(0x5000)
                let peers = others.filter { $0.nodeID != s.nodeID }.map { p -> PeerView in
                    var p = p
                    p.reachable = side.contains(p.nodeID)
                    if p.reachable {
                        p.isInRecovery = p.type == .standby
                        p.lastReceivedLSN = p.type == .standby ? LSN(0x5000) : nil
                    }
                    return p
                }
                let input = ElectionInput(now: 0, me: me, lostPrimary: primary, peers: peers, term: 1)
                let settings = FailoverSettings(nodeID: s.nodeID, mode: .automatic, primaryVisibilityConsensus: consensus)
                if case .won = Election.decide(input, settings: settings) { return true }
                return false
            }
        }
    }

    @Test("strict: the primary is unfenced exactly when the other side cannot elect; auto: the same except two-node clusters",
          arguments: 2...7)
    func everySplit(nodes: Int) {
        var violations: [String] = []
        var splits = 0
        var fencedSplits = 0
        for witness in [false, true] where nodes - 1 - (witness ? 1 : 0) >= 1 {
            for zeroPriority in [false, true] {
                for locationMask in 0..<(1 << (nodes - 1)) {
                    let layout = Layout(nodes: nodes, witness: witness, locationMask: locationMask, zeroPriority: zeroPriority)
                    for split in 0..<(1 << layout.others.count) {
                        let side = Set(layout.others.indices.filter { split & (1 << $0) != 0 }.map { layout.others[$0].nodeID })
                        let view = layout.primaryView(otherSide: side)
                        let strict = IsolationRule.evaluate(primary: layout.primary, peers: view, mode: .strict)
                        let auto = IsolationRule.evaluate(primary: layout.primary, peers: view, mode: .auto)
                        for consensus in [false, true] {
                            splits += 1
                            let election = layout.electionWon(on: side, consensus: consensus)
                            let label = "\(nodes) nodes, witness \(witness), locations \(locationMask), priority-0 \(zeroPriority), other side \(side.sorted())"
                            if !strict.isolated && election { violations.append("strict: " + label) }
                            if strict.isolated && !election { violations.append("needless fence: " + label) }
                            if !auto.isolated && election && !auto.twoNode { violations.append("auto: " + label) }
                            if strict.isolated { fencedSplits += 1 }
                        }
                        if side.isEmpty { #expect(!strict.isolated, "a primary that sees every node never fences") }
                    }
                }
            }
        }
        #expect(violations.isEmpty, "\(violations.prefix(5))")
        #expect(splits > 0)
        #expect(fencedSplits > 0, "some split fences the primary")
    }

    @Test("two-node cluster: auto keeps repmgr's behaviour (no fence), strict fences, off never fences")
    func twoNode() {
        let layout = Layout(nodes: 2, witness: false, locationMask: 0, zeroPriority: false)
        let view = layout.primaryView(otherSide: [2])
        #expect(layout.electionWon(on: [2], consensus: false))
        let auto = IsolationRule.evaluate(primary: layout.primary, peers: view, mode: .auto)
        #expect(auto.twoNode && !auto.isolated)
        #expect(IsolationRule.evaluate(primary: layout.primary, peers: view, mode: .strict).isolated)
        #expect(!IsolationRule.evaluate(primary: layout.primary, peers: view, mode: .off).isolated)
    }

    @Test("a primary that still sees the witness (one standby, one witness) does not fence; seeing nobody, it does")
    func witnessVisible() {
        let layout = Layout(nodes: 3, witness: true, locationMask: 0, zeroPriority: false)
        let seesWitness = IsolationRule.evaluate(primary: layout.primary, peers: layout.primaryView(otherSide: [2]), mode: .auto)
        #expect(!seesWitness.isolated)
        #expect(seesWitness.sentence.contains("1 of 2 nodes"))
        let alone = IsolationRule.evaluate(primary: layout.primary, peers: layout.primaryView(otherSide: [2, 99]), mode: .auto)
        #expect(alone.isolated)
    }

    @Test("locations: standbys and witness all in another location cannot elect, so the primary alone there does not fence")
    func otherLocation() {
        let layout = Layout(nodes: 4, witness: true, locationMask: 0b111, zeroPriority: false)
        let alone = IsolationRule.evaluate(primary: layout.primary, peers: layout.primaryView(otherSide: [2, 3, 99]), mode: .strict)
        #expect(!alone.isolated)
    }
}

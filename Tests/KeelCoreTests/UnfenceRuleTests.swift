import Testing
@testable import KeelCore

@Suite("fencing: former primaries and the unfence rule")
struct UnfenceRuleTests {
    static let fact = FenceFact(nodeID: 1, reason: .isolated, timeline: 3, term: 4, action: .demote, details: "isolated",
                                previousSynchronousStandbyNames: nil, fencedAt: "now")

    static func standby(_ id: Int, reachable: Bool = true, timeline: Int = 3, term: Int = 4, inRecovery: Bool = true) -> NodeSighting {
        NodeSighting(nodeID: id, name: "n\(id)", type: .standby, reachable: reachable, isInRecovery: reachable ? inRecovery : nil,
                     timeline: reachable ? timeline : nil, term: reachable ? term : nil)
    }

    static func verdict(visible: Int, sharing: Int, isolated: Bool = false) -> IsolationRule.Verdict {
        IsolationRule.Verdict(isolated: isolated, sharing: sharing, visible: visible, twoNode: false, sentence: "s")
    }

    @Test("a primary on a later timeline, or a standby with a higher term, shows this node is a former primary; a witness never does")
    func supersession() {
        let newPrimary = Self.standby(2, timeline: 4, term: 5, inRecovery: false)
        let evidence = Supersession.evidence(timeline: 3, term: 4, sightings: [Self.standby(3, term: 5), newPrimary])
        #expect(evidence?.node.nodeID == 2, "a node out of recovery is preferred as evidence")
        #expect(evidence?.sentence.contains("timeline 4 (this node: 3)") == true)
        #expect(Supersession.evidence(timeline: 3, term: 4, sightings: [Self.standby(3, term: 5)])?.node.nodeID == 3)
        #expect(Supersession.evidence(timeline: 3, term: 4, sightings: [Self.standby(2), Self.standby(3, reachable: false)]) == nil)
        let witness = NodeSighting(nodeID: 99, name: "w", type: .witness, reachable: true, isInRecovery: false, timeline: 9, term: 9)
        #expect(Supersession.evidence(timeline: 3, term: 4, sightings: [witness]) == nil)
    }

    @Test("unfence only when still the only primary: same timeline and term, nobody newer or out of recovery, a majority visible")
    func unfence() {
        let ok = Self.verdict(visible: 2, sharing: 2)
        #expect(UnfenceRule.blocker(fact: Self.fact, timeline: 3, term: 4, sightings: [Self.standby(2), Self.standby(3)], isolation: ok) == nil)
        #expect(UnfenceRule.blocker(fact: Self.fact, timeline: 4, term: 4, sightings: [], isolation: ok)?.contains("timeline changed") == true)
        #expect(UnfenceRule.blocker(fact: Self.fact, timeline: 3, term: 5, sightings: [], isolation: ok)?.contains("voting term changed") == true)
        #expect(UnfenceRule.blocker(fact: Self.fact, timeline: 3, term: 4, sightings: [Self.standby(2, inRecovery: false)],
                                    isolation: ok)?.contains("also runs as primary") == true)
        #expect(UnfenceRule.blocker(fact: Self.fact, timeline: 3, term: 4, sightings: [Self.standby(2, timeline: 4)],
                                    isolation: ok)?.contains("former primary") == true)
        #expect(UnfenceRule.blocker(fact: Self.fact, timeline: 3, term: 4, sightings: [],
                                    isolation: Self.verdict(visible: 0, sharing: 2, isolated: true)) == "s")
        #expect(UnfenceRule.blocker(fact: Self.fact, timeline: 3, term: 4, sightings: [],
                                    isolation: Self.verdict(visible: 1, sharing: 3))?.contains("a majority must see it") == true)
        var former = Self.fact
        former.reason = .formerPrimary
        #expect(UnfenceRule.blocker(fact: former, timeline: 3, term: 4, sightings: [], isolation: ok)?.contains("rejoins") == true)
    }

    @Test("the election never follows a primary on an older timeline (a returning old primary)")
    func neverFollowFormer() {
        let lost = PeerView(nodeID: 2, name: "new", type: .primary)
        let me = PeerView(nodeID: 3, name: "me", type: .standby, upstreamNodeID: 2, reachable: true, isInRecovery: true,
                          lastReceivedLSN: LSN(0x5000), timeline: 4)
        let old = PeerView(nodeID: 1, name: "old", type: .primary, reachable: true, isInRecovery: false, timeline: 3)
        let sibling = PeerView(nodeID: 4, name: "sib", type: .standby, upstreamNodeID: 2, reachable: true, isInRecovery: true,
                               lastReceivedLSN: LSN(0x4000), timeline: 4)
        let report = Election.evaluate(ElectionInput(now: 0, me: me, lostPrimary: lost, peers: [old, sibling], term: 5),
                                       settings: FailoverSettings(nodeID: 3, mode: .automatic))
        #expect(report.formerPrimaries == [1])
        #expect(report.outcome == .won(term: 6))
        var current = old
        current.timeline = 4
        let follows = Election.decide(ElectionInput(now: 0, me: me, lostPrimary: lost, peers: [current, sibling], term: 5),
                                      settings: FailoverSettings(nodeID: 3, mode: .automatic))
        #expect(follows == .followExisting(primaryID: 1))
    }

    @Test("fence fact round-trips through JSON with its reason and action")
    func factCodable() throws {
        let data = try JSONEncoder().encode(Self.fact)
        #expect(try JSONDecoder().decode(FenceFact.self, from: data) == Self.fact)
    }
}

import Foundation

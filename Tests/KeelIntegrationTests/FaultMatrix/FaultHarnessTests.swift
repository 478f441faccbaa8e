import Foundation
import Testing
import KeelTesting

/// The fault matrix's own tools: the split-brain judgement over a writer's log, and the network
/// lab's set-up, cuts and clean-up.
@Suite("Fault matrix harness")
struct FaultHarnessTests {
    static func write(_ node: String, _ value: Int64, at time: Double) -> AcknowledgedWrite {
        AcknowledgedWrite(node: node, value: value, sent: time - 0.001, acknowledged: time)
    }

    @Test("SplitBrainChecker: interleaved acknowledgements of two nodes after the deadline overlap; a clean handover does not")
    func overlaps() {
        let handover = SplitBrainChecker([Self.write("node1", 1, at: 1), Self.write("node1", 2, at: 2), Self.write("node2", 3, at: 3)])
        #expect(handover.overlaps(after: 0).isEmpty)
        #expect(handover.window(old: "node1", new: "node2", after: 0) == 0)
        let split = SplitBrainChecker([Self.write("node1", 1, at: 1), Self.write("node2", 2, at: 2), Self.write("node1", 3, at: 2.5)])
        #expect(split.overlaps(after: 0).count == 1)
        #expect(split.overlaps(after: 2.6).isEmpty, "nothing acknowledged after that deadline")
        #expect(split.window(old: "node1", new: "node2", after: 0) == 0.5)
        #expect(split.window(old: "node1", new: "node3", after: 0) == nil, "node3 acknowledged nothing")
    }

    @Test("SplitBrainChecker: a write the survivor acknowledged and no longer holds is lost; another node's is not its concern")
    func lostWrites() {
        let checker = SplitBrainChecker([Self.write("node2", 7, at: 1), Self.write("node2", 8, at: 2), Self.write("node1", 9, at: 3)])
        #expect(checker.lost(on: "node2", present: [7, 8]).isEmpty)
        #expect(checker.lost(on: "node2", present: [7, 9]) == [8])
    }

    @Test("NetworkLab: namespaces with their addresses, a cut rule per peer, and nothing left after close",
          .enabled(if: NetworkLab.unsupportedReason == nil, "needs root, iproute2 and nftables"))
    func labLifecycle() throws {
        let lab = try NetworkLab(nodes: ["a", "b", "c"])
        let namespaces = lab.nodes.map { lab.endpoint($0).namespace }
        for node in lab.nodes {
            #expect(FileManager.default.fileExists(atPath: "/run/netns/\(lab.endpoint(node).namespace)"))
        }
        #expect(FileManager.default.fileExists(atPath: "/sys/class/net/\(lab.bridge)"))
        try lab.cut("a", "b")
        let rules = try lab.ruleset(of: "a")
        #expect(rules.contains("ip saddr \(lab.endpoint("b").address) drop") && rules.contains("ip daddr \(lab.endpoint("b").address) drop"))
        #expect(!rules.contains(lab.endpoint("c").address))
        try lab.heal()
        #expect(!(try lab.ruleset(of: "a")).contains("drop"))
        lab.close()
        for namespace in namespaces { #expect(!FileManager.default.fileExists(atPath: "/run/netns/\(namespace)")) }
        #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/\(lab.bridge)"))
    }
}

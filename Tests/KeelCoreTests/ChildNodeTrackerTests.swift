import Testing
@testable import KeelCore

@Suite("Primary-side child node monitoring")
struct ChildNodeTrackerTests {
    typealias C = ChildNodeTracker.Child

    @Test("the first check is the baseline; changes give child_node_disconnect/reconnect/new_connect")
    func events() {
        var t = ChildNodeTracker(settings: .init())
        #expect(t.observe(now: 0, children: [C(nodeID: 2, name: "node2", attached: true), C(nodeID: 3, name: "node3", attached: false)]).isEmpty)
        let a = t.observe(now: 5, children: [C(nodeID: 2, name: "node2", attached: false), C(nodeID: 3, name: "node3", attached: true),
                                             C(nodeID: 4, name: "node4", attached: true)])
        #expect(a == [
            .event(.childNodeDisconnect, nodeID: 2, details: "child node \"node2\" (ID: 2) has disconnected"),
            .event(.childNodeReconnect, nodeID: 3, details: "child node \"node3\" (ID: 3) has reconnected"),
            .event(.childNodeNewConnect, nodeID: 4, details: "new child node \"node4\" (ID: 4) has connected"),
        ])
        #expect(t.observe(now: 10, children: [C(nodeID: 2, name: "node2", attached: false), C(nodeID: 3, name: "node3", attached: true),
                                              C(nodeID: 4, name: "node4", attached: true)]).isEmpty)
    }

    @Test("the disconnect command runs once after the timeout, and again only after the shortfall cleared")
    func command() {
        var t = ChildNodeTracker(settings: .init(connectedMinCount: 1, disconnectTimeout: 30))
        let up = [C(nodeID: 2, name: "node2", attached: true)]
        let down = [C(nodeID: 2, name: "node2", attached: false)]
        _ = t.observe(now: 0, children: up)
        #expect(t.observe(now: 5, children: down).count == 1)            // the disconnect event only
        #expect(t.observe(now: 20, children: down).isEmpty)              // 15 s < 30 s
        let fired = t.observe(now: 35, children: down)
        #expect(fired.count == 1)
        if case .runDisconnectCommand(let details)? = fired.first { #expect(details.contains("fewer than child_nodes_connected_min_count (1)")) }
        else { Issue.record("expected the command") }
        #expect(t.observe(now: 90, children: down).isEmpty)              // once
        _ = t.observe(now: 95, children: up)                              // cleared: re-armed
        _ = t.observe(now: 100, children: down)
        #expect(t.observe(now: 131, children: down).contains(.runDisconnectCommand(details: "0 child nodes attached, fewer than child_nodes_connected_min_count (1) for 31 seconds")))
    }

    @Test("disconnect_min_count is used only when connected_min_count is off", arguments: [(-1, 2, true), (0, 2, false)])
    func minCounts(connectedMin: Int, disconnectMin: Int, fires: Bool) {
        var t = ChildNodeTracker(settings: .init(connectedMinCount: connectedMin, disconnectMinCount: disconnectMin, disconnectTimeout: 0))
        let children = [C(nodeID: 2, name: "a", attached: false), C(nodeID: 3, name: "b", attached: false)]
        let actions = t.observe(now: 0, children: children)
        #expect(actions.contains { if case .runDisconnectCommand = $0 { true } else { false } } == fires)
    }

    @Test("with both counts off nothing ever runs")
    func off() {
        var t = ChildNodeTracker(settings: .init())
        _ = t.observe(now: 0, children: [C(nodeID: 2, name: "a", attached: true)])
        #expect(t.observe(now: 1000, children: [C(nodeID: 2, name: "a", attached: false)]).count == 1)
        #expect(t.observe(now: 2000, children: [C(nodeID: 2, name: "a", attached: false)]).isEmpty)
    }
}

import Testing
@testable import KeelCore

/// The pure decisions of the topology operations: pg_controldata parsing, `--is-shutdown-cleanly`,
/// the switchover pre-checks and the connectivity matrix of `cluster matrix|crosscheck`.
@Suite("Topology decisions: control data, shutdown state, switchover pre-checks, connectivity matrix")
struct TopologyDecisionTests {
    static let controldata = """
        pg_control version number:            1300
        Catalog version number:               202209061
        Database system identifier:           7290112233445566778
        Database cluster state:               shut down
        pg_control last modified:             Mon 01 Jan 2024 10:00:00 AM UTC
        Latest checkpoint location:           0/3000028
        Latest checkpoint's REDO location:    0/3000028
        Latest checkpoint's REDO WAL file:    000000010000000000000003
        Latest checkpoint's TimeLineID:       1
        Minimum recovery ending location:     0/0
        Min recovery ending loc's timeline:   0
        wal_log_hints setting:                on
        Data page checksum version:           0
        """

    @Test("pg_controldata output is parsed into state, identity, positions and rewind prerequisites")
    func controlData() {
        let c = ControlData(parsing: Self.controldata)
        #expect(c.state == .shutDown)
        #expect(c.state.isCleanShutdown)
        #expect(c.systemIdentifier == "7290112233445566778")
        #expect(c.checkpointLocation == LSN("0/3000028"))
        #expect(c.redoLocation == LSN("0/3000028"))
        #expect(c.timeline == 1)
        #expect(c.cleanEndPosition == LSN("0/3000029"))
        #expect(c.walLogHints && !c.dataChecksums && c.rewindable)
        let standby = ControlData(parsing: Self.controldata
            .replacingOccurrences(of: "state:               shut down", with: "state:               shut down in recovery")
            .replacingOccurrences(of: "location:     0/0", with: "location:     0/5000100")
            .replacingOccurrences(of: "timeline:   0", with: "timeline:   2")
            .replacingOccurrences(of: "wal_log_hints setting:                on", with: "wal_log_hints setting:                off"))
        #expect(standby.state == .shutDownInRecovery)
        #expect(standby.timeline == 2)
        #expect(standby.cleanEndPosition == LSN("0/5000100"))
        #expect(!standby.rewindable)
        #expect(ControlData(parsing: "Database cluster state: in production\nData page checksum version: 1").rewindable)
        #expect(ControlData(parsing: "garbage").state == .unknown)
    }

    @Test("--is-shutdown-cleanly: decision and the line it prints, parsed back")
    func shutdownState() throws {
        let down = ControlData(parsing: Self.controldata)
        let crashed = ControlData(parsing: Self.controldata.replacingOccurrences(of: "shut down", with: "in production"))
        let stopping = ControlData(parsing: Self.controldata.replacingOccurrences(of: "shut down", with: "shutting down"))
        #expect(ShutdownState.evaluate(answering: false, control: down) == .down(lastCheckpoint: LSN("0/3000028")!))
        #expect(ShutdownState.evaluate(answering: true, control: crashed) == .up)
        #expect(ShutdownState.evaluate(answering: false, control: crashed) == .uncleanShutdown)
        #expect(ShutdownState.evaluate(answering: true, control: stopping) == .shuttingDown)
        #expect(ShutdownState.evaluate(answering: false, control: nil) == .unknown)
        #expect(ShutdownState.down(lastCheckpoint: LSN("0/3000028")!).line == "--state=DOWN --last-checkpoint-lsn=0/3000028")
        for state in [ShutdownState.up, .shuttingDown, .down(lastCheckpoint: LSN("1/A0")!), .uncleanShutdown, .unknown] {
            #expect(ShutdownState(parsing: "some log line\n" + state.line + "\n") == state)
        }
        #expect(ShutdownState(parsing: "--state=DOWN") == nil)
        #expect(ShutdownState(parsing: "nothing") == nil)
    }

    @Test("switchover pre-checks: refusals, what --force overrides, warnings")
    func precheck() {
        #expect(SwitchoverPrecheck.evaluate(SwitchoverFacts()).isEmpty)
        let lagging = SwitchoverPrecheck.evaluate(SwitchoverFacts(lagSeconds: 700))
        #expect(lagging.map(\.severity) == [.refusal])
        #expect(lagging[0].message.contains("replication_lag_critical"))
        #expect(SwitchoverPrecheck.evaluate(SwitchoverFacts(lagSeconds: 700, force: true)).map(\.severity) == [.warning])
        #expect(SwitchoverPrecheck.evaluate(SwitchoverFacts(lagSeconds: 400)).map(\.severity) == [.warning])
        #expect(SwitchoverPrecheck.evaluate(SwitchoverFacts(lagSeconds: nil)).map(\.severity) == [.refusal])
        // Not streaming from the primary and replay paused are never overridable.
        let stuck = SwitchoverPrecheck.evaluate(SwitchoverFacts(streamingFromPrimary: false, replayPaused: true, force: true))
        #expect(stuck.map(\.severity) == [.refusal, .refusal])
        // Capacity for the nodes that will attach; slots only with use_replication_slots.
        let full = SwitchoverFacts(lagSeconds: 400, freeWalSenders: 1, neededWalSenders: 3, useSlots: true, freeSlots: 0, neededSlots: 3,
                                   unreachableSiblings: ["node \"node3\" (ID: 3)"])
        #expect(SwitchoverPrecheck.evaluate(full).map(\.severity) == [.refusal, .refusal, .refusal, .warning])
        var noSlots = full
        noSlots.useSlots = false
        #expect(SwitchoverPrecheck.evaluate(noSlots).count == 3)
        // The shutdown checkpoint record must have been received, not only its start position.
        let checkpoint = LSN("0/3000028")!
        #expect(SwitchoverPrecheck.hasReceivedShutdownCheckpoint(lastReceived: LSN("0/30000A0"), checkpoint: checkpoint))
        #expect(!SwitchoverPrecheck.hasReceivedShutdownCheckpoint(lastReceived: checkpoint, checkpoint: checkpoint))
        #expect(!SwitchoverPrecheck.hasReceivedShutdownCheckpoint(lastReceived: nil, checkpoint: checkpoint))
    }

    static let nodes = [ConnectivityMatrix.Node(id: 1, name: "node1"), .init(id: 2, name: "node2"), .init(id: 3, name: "n3")]

    @Test("cluster matrix: rows from cluster show --csv, repmgr's table and CSV, exit status")
    func matrix() {
        var m = ConnectivityMatrix(nodes: Self.nodes)
        for t in [1, 2, 3] { m[1, t] = t == 3 ? .failed : .ok }
        let applied = m.applyClusterShowCSV(from: 2, "1,0,0\n2,0,1\n3,-1,-1\n")
        let rejected = m.applyClusterShowCSV(from: 3, "ERROR: nonsense")
        #expect(applied && !rejected)
        #expect(m.renderText() == """
             Name | Id |  1 |  2 |  3 
            ------+----+----+----+----
            node1 |  1 |  * |  * |  x 
            node2 |  2 |  * |  * |  x 
               n3 |  3 |  ? |  ? |  ? 
            """)
        #expect(m.renderCSV().split(separator: "\n").prefix(4) == ["1,1,0", "1,2,0", "1,3,-1", "2,1,0"])
        #expect(m.exitStatus(remoteFailed: true) == .nodeStatus)
        var good = ConnectivityMatrix(nodes: Self.nodes)
        for s in [1, 2, 3] { for t in [1, 2, 3] { good[s, t] = .ok } }
        #expect(good.exitStatus(remoteFailed: false) == .success)
        #expect(good.exitStatus(remoteFailed: true) == .badSSH)
        good[3, 1] = .unknown
        #expect(good.exitStatus(remoteFailed: false) == .badSSH)
        good[9, 1] = .failed   // unknown node IDs are ignored
        #expect(good[9, 1] == .unknown)
    }

    @Test("cluster crosscheck merges every node's matrix, the best value winning")
    func crosscheck() throws {
        let csv = "1,1,0\n1,2,-1\n1,3,-2\n2,1,-2\n2,2,0\n2,3,-2\n3,1,-2\n3,2,-2\n3,3,-2"
        let cells = try #require(ConnectivityMatrix.parseMatrixCSV(csv))
        var a = ConnectivityMatrix(nodes: Self.nodes)
        for c in cells { a[c.source, c.target] = c.cell }
        var b = ConnectivityMatrix(nodes: Self.nodes)
        b[1, 2] = .ok
        b[2, 3] = .failed
        let merged = ConnectivityMatrix.merged([a, b], nodes: Self.nodes)
        #expect(merged[1, 2] == .ok)
        #expect(merged[1, 3] == .unknown)
        #expect(merged[2, 3] == .failed)
        #expect(merged[2, 2] == .ok)
        #expect(ConnectivityMatrix.parseMatrixCSV("1,2") == nil)
        #expect(ConnectivityMatrix.parseMatrixCSV("1,2,5") == nil)
    }
}

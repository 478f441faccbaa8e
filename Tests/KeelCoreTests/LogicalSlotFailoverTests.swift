import Testing
@testable import KeelCore

/// The logical-slot preference rule and the settings `logical_slot_failover` derives, as tables.
@Suite("logical slots across a failover: preference rule and settings")
struct LogicalSlotFailoverTests {
    /// A candidate at `lsn` holding `slots` (name → confirmed_flush_lsn); `nil` slots = unknown.
    static func candidate(_ id: Int, lsn: UInt64 = 0x5000, priority: Int = 100, slots: [String: UInt64]?) -> PeerView {
        var view = Cluster.standby(id, lsn: lsn, priority: priority)
        view.syncedLogicalSlots = slots?.mapValues(LSN.init)
        return view
    }

    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        let candidates: [PeerView]
        var alwaysPromote = false
        /// Node IDs kept, best first.
        let order: [Int]
        /// Node IDs refused.
        var refused: [Int] = []
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "no candidate holds a slot: ranking unchanged, nobody refused",
            candidates: [candidate(3, slots: nil), candidate(2, slots: [:])], order: [3, 2]),
        Row(name: "equal LSN: the candidate holding the slots wins over a higher priority without them",
            candidates: [candidate(3, priority: 200, slots: [:]), candidate(2, slots: ["orders": 0x4000])],
            order: [2], refused: [3]),
        Row(name: "a candidate holding none is refused even with the highest LSN",
            candidates: [candidate(3, lsn: 0x6000, slots: nil), candidate(2, slots: ["orders": 0x4000])],
            order: [2], refused: [3]),
        Row(name: "always_promote keeps the candidate holding none; the highest LSN still wins",
            candidates: [candidate(3, lsn: 0x6000, slots: nil), candidate(2, slots: ["orders": 0x4000])],
            alwaysPromote: true, order: [3, 2]),
        Row(name: "higher LSN wins over more complete slots: no WAL is given up for a slot",
            candidates: [candidate(2, lsn: 0x5000, slots: ["a": 0x4000, "b": 0x4000]), candidate(3, lsn: 0x6000, slots: ["a": 0x4000])],
            order: [3, 2]),
        Row(name: "equal LSN: all slots beat some slots",
            candidates: [candidate(3, slots: ["a": 0x4000]), candidate(2, slots: ["a": 0x4000, "b": 0x4000])],
            order: [2, 3]),
        Row(name: "equal LSN, all slots on both: the one with the newest confirmed_flush_lsn wins over priority",
            candidates: [candidate(3, priority: 200, slots: ["a": 0x3000]), candidate(2, slots: ["a": 0x4000])],
            order: [2, 3]),
        Row(name: "equal everything: priority, then lowest node ID",
            candidates: [candidate(4, slots: ["a": 0x4000]), candidate(3, slots: ["a": 0x4000]), candidate(2, priority: 50, slots: ["a": 0x4000])],
            order: [3, 4, 2]),
    ]

    @Test("rank", arguments: rows)
    func rank(_ row: Row) {
        let ranking = LogicalSlotFailover.rank(row.candidates, alwaysPromote: row.alwaysPromote)
        #expect(ranking.candidates.map(\.nodeID) == row.order)
        #expect(ranking.refused.map(\.nodeID) == row.refused)
        for refused in ranking.refused { #expect(refused.reason.contains("always_promote")) }
    }

    @Test("slot states: none, partial, behind, up to date; unknown slots count as none")
    func states() {
        let (states, slots) = LogicalSlotFailover.states(of: [
            Self.candidate(2, slots: ["a": 0x10, "b": 0x20]), Self.candidate(3, slots: ["a": 0x10, "b": 0x18]),
            Self.candidate(4, slots: ["b": 0x20]), Self.candidate(5, slots: nil),
        ])
        #expect(states == [2: .upToDate, 3: .behind, 4: .partial, 5: .absent])
        #expect(slots == ["a": LSN(0x10), "b": LSN(0x20)])
    }

    @Test("the election applies the rule only with logical_slot_failover, and says so in its ranking")
    func election() {
        let me = Self.candidate(2, slots: [:])
        let sibling = Self.candidate(3, slots: ["orders": 0x4000])
        let input = Cluster.input(me: me, [sibling])
        #expect(Election.decide(input, settings: Cluster.automatic) == .won(term: 8))
        var settings = Cluster.automatic
        settings.logicalSlotFailover = true
        let report = Election.evaluate(input, settings: settings)
        #expect(report.outcome == .lost(winner: 3))
        #expect(report.exclusions.contains { $0.nodeID == 2 && $0.reason.contains("orders") })
        settings.alwaysPromote = true
        let both = Election.evaluate(Cluster.input(me: me, [Self.candidate(3, priority: 50, slots: ["orders": 0x4000])]), settings: settings)
        #expect(both.outcome == .lost(winner: 3))
        #expect(both.sentence.contains("logical slots, priority"))
    }

    @Test("synchronized_standby_slots: promotable standbys of this primary whose slot exists, sorted")
    func synchronizedStandbySlots() {
        let nodes = [
            NodeRecord(nodeID: 1, nodeName: "n1", type: .primary, conninfo: "", replicationUser: "repmgr", configFile: ""),
            NodeRecord(nodeID: 3, upstreamNodeID: 1, nodeName: "n3", type: .standby, conninfo: "", replicationUser: "repmgr", configFile: ""),
            NodeRecord(nodeID: 2, upstreamNodeID: 1, nodeName: "n2", type: .standby, conninfo: "", replicationUser: "repmgr", configFile: ""),
            NodeRecord(nodeID: 4, upstreamNodeID: 1, nodeName: "n4", type: .standby, priority: 0, conninfo: "", replicationUser: "repmgr", configFile: ""),
            NodeRecord(nodeID: 5, upstreamNodeID: 2, nodeName: "n5", type: .standby, conninfo: "", replicationUser: "repmgr", configFile: ""),
            NodeRecord(nodeID: 6, upstreamNodeID: 1, active: false, nodeName: "n6", type: .standby, conninfo: "", replicationUser: "repmgr", configFile: ""),
            NodeRecord(nodeID: 7, upstreamNodeID: 1, nodeName: "n7", type: .standby, conninfo: "", replicationUser: "repmgr", configFile: ""),
            NodeRecord(nodeID: 9, upstreamNodeID: 1, nodeName: "w", type: .witness, conninfo: "", replicationUser: "repmgr", configFile: ""),
        ]
        let existing: Set = ["repmgr_slot_2", "repmgr_slot_3", "repmgr_slot_4", "repmgr_slot_5", "repmgr_slot_6", "repmgr_slot_9"]
        #expect(LogicalSlotFailover.synchronizedStandbySlots(primaryID: 1, nodes: nodes, existingSlots: existing)
                == "repmgr_slot_2,repmgr_slot_3")
        #expect(LogicalSlotFailover.synchronizedStandbySlots(primaryID: 1, nodes: nodes, existingSlots: []) == "")
    }

    @Test("standby settings from PostgreSQL 17 on; none before or when the version is unknown")
    func standbySettings() {
        #expect(LogicalSlotFailover.standbySettings(serverVersionNum: 170000).map(\.name) == ["sync_replication_slots", "hot_standby_feedback"])
        #expect(LogicalSlotFailover.standbySettings(serverVersionNum: 180006).map(\.value) == ["on", "on"])
        #expect(LogicalSlotFailover.standbySettings(serverVersionNum: 160010).isEmpty)
        #expect(LogicalSlotFailover.standbySettings(serverVersionNum: nil).isEmpty)
    }

    @Test("the event detail names each slot that moved with its position")
    func moved() {
        #expect(LogicalSlotFailover.movedSlots(["b": LSN(0x3000100), "a": LSN(0x3000060)]) == "logical slots moved: a (0/3000060), b (0/3000100)")
        #expect(LogicalSlotFailover.movedSlots([:]) == nil)
    }

    @Test("logical_slot_failover needs use_replication_slots: an error naming the key and line")
    func validation() throws {
        let base = "node_id=2\nnode_name=n2\nconninfo='host=db2'\ndata_directory='/d'\n"
        #expect(throws: (any Error).self) { try KeelConfig.parse(text: base + "logical_slot_failover=on\n", file: "/etc/keel.conf") }
        do {
            _ = try KeelConfig.parse(text: base + "logical_slot_failover=on\n", file: "/etc/keel.conf")
        } catch {
            #expect("\(error)".contains("logical_slot_failover"))
            #expect("\(error)".contains("use_replication_slots"))
        }
        let config = try KeelConfig.parse(text: base + "logical_slot_failover=on\nuse_replication_slots=true\n", file: "/etc/keel.conf")
        #expect(config.logicalSlotFailover)
        #expect(FailoverSettings(config: config).logicalSlotFailover)
    }
}

/// The switchover pre-check of `logical_slot_failover`.
@Suite("logical slots across a switchover: pre-check")
struct LogicalSlotSwitchoverTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        let primary: [String: LSN]?
        let candidate: [String: LSN]?
        var alwaysPromote = false
        let expected: SwitchoverFinding.Severity?
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "no failover slot on the primary: nothing to say", primary: [:], candidate: nil, expected: nil),
        Row(name: "primary slots unknown (older server): nothing to say", primary: nil, candidate: nil, expected: nil),
        Row(name: "every slot synced: nothing to say", primary: ["a": LSN(5)], candidate: ["a": LSN(3)], expected: nil),
        Row(name: "none synced: refused", primary: ["a": LSN(5), "b": LSN(5)], candidate: [:], expected: .refusal),
        Row(name: "none synced, --always-promote: a warning", primary: ["a": LSN(5)], candidate: nil, alwaysPromote: true, expected: .warning),
        Row(name: "some synced: a warning naming the missing", primary: ["a": LSN(5), "b": LSN(5)], candidate: ["a": LSN(5)], expected: .warning),
    ]

    @Test("finding", arguments: rows)
    func finding(_ row: Row) {
        let finding = LogicalSlotFailover.switchoverFinding(primarySlots: row.primary, candidateSlots: row.candidate, alwaysPromote: row.alwaysPromote)
        #expect(finding?.severity == row.expected)
        if row.name.hasPrefix("some") { #expect(finding?.message.contains("b") == true) }
    }
}

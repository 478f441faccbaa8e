/// Logical replication slots across a failover (PostgreSQL 17+, Keel's `logical_slot_failover`): what the
/// standbys and the primary must be set to, and which promotion candidate keeps the slots. Pure: keeld
/// and the operations read the servers and apply the settings; this decides.
///
/// PostgreSQL 17 copies a logical slot created with `failover = true` to a standby whose slot sync is on
/// (`sync_replication_slots`, `hot_standby_feedback`, `primary_slot_name`, and a `dbname` in
/// `primary_conninfo`); the primary holds its logical walsenders back until the physical slots listed in
/// `synchronized_standby_slots` have the WAL, so a consumer never reads a change that the promoted standby
/// lacks. After a promotion the synced slots become ordinary slots the consumer resumes from.
public enum LogicalSlotFailover {
    /// The first `server_version_num` with slot synchronisation (PostgreSQL 17).
    public static let minimumServerVersion = 170000

    /// The settings a standby needs for slot sync, or none below PostgreSQL 17 (or an unknown version).
    public static func standbySettings(serverVersionNum: Int?) -> [(name: String, value: String)] {
        guard let version = serverVersionNum, version >= minimumServerVersion else { return [] }
        return [("sync_replication_slots", "on"), ("hot_standby_feedback", "on")]
    }

    /// The primary's `synchronized_standby_slots`: the physical slots of the standbys that may be promoted
    /// in a failover of `primaryID` — active standbys attached to it with priority > 0 — that exist on the
    /// primary (`existingSlots`; a slot not created yet would hold every logical walsender back), sorted and
    /// comma-separated. Empty when none.
    public static func synchronizedStandbySlots(primaryID: Int, nodes: [NodeRecord], existingSlots: Set<String>) -> String {
        let names = nodes.filter { $0.type == .standby && $0.active && $0.priority > 0 && $0.upstreamNodeID == primaryID }
            .map { $0.slotName ?? NodeRecord.slotName(for: $0.nodeID) }
            .filter(existingSlots.contains)
        return Set(names).sorted().joined(separator: ",")
    }

    /// How a candidate's synced logical slots compare with the other candidates'.
    public enum SlotState: Int, Sendable, Comparable {
        /// It holds none of the failover slots the candidates hold (named `absent`, not `none`, so that it never
    /// reads as `Optional.none`): promoting it loses them all.
        case absent = 0
        /// It holds some of them.
        case partial = 1
        /// It holds all of them, some behind another candidate's `confirmed_flush_lsn`.
        case behind = 2
        /// It holds all of them, each at the highest `confirmed_flush_lsn` seen.
        case upToDate = 3

        /// Ordered by how much of the slots a promotion keeps.
        public static func < (a: SlotState, b: SlotState) -> Bool { a.rawValue < b.rawValue }
    }

    /// The result of `rank`: candidates best first, the ones refused, and each candidate's state.
    public struct Ranking: Sendable, Equatable {
        /// The candidates kept, best first.
        public var candidates: [PeerView]
        /// Candidates refused because they hold none of the slots (never when `alwaysPromote`).
        public var refused: [ElectionReport.Exclusion]
        /// Every candidate's slot state, by node ID.
        public var states: [Int: SlotState]
        /// The failover slots seen on any candidate, with the highest `confirmed_flush_lsn` seen.
        public var slots: [String: LSN]
    }

    /// The state of each candidate. Every slot name held by any candidate counts; a candidate whose slots
    /// are unknown (`syncedLogicalSlots == nil`: not PostgreSQL 17+, or the query failed) holds none.
    public static func states(of candidates: [PeerView]) -> (states: [Int: SlotState], slots: [String: LSN]) {
        var best: [String: LSN] = [:]
        for candidate in candidates {
            for (name, lsn) in candidate.syncedLogicalSlots ?? [:] { best[name] = max(best[name] ?? .zero, lsn) }
        }
        var states: [Int: SlotState] = [:]
        for candidate in candidates {
            let held = candidate.syncedLogicalSlots ?? [:]
            let count = best.keys.filter { held[$0] != nil }.count
            if count == 0 {
                states[candidate.nodeID] = .absent
            } else if count < best.count {
                states[candidate.nodeID] = .partial
            } else {
                states[candidate.nodeID] = best.allSatisfy { held[$0.key]! >= $0.value } ? .upToDate : .behind
            }
        }
        return (states, best)
    }

    /// The preference rule. When no candidate holds any failover slot, nothing changes. Otherwise a
    /// candidate holding none of them is refused (unless `alwaysPromote`), and the others are ranked by
    /// last received LSN first — no WAL is given up for a slot — then slot state (up to date, behind,
    /// partial), then priority, then lowest node ID.
    public static func rank(_ candidates: [PeerView], alwaysPromote: Bool) -> Ranking {
        let (states, slots) = states(of: candidates)
        guard !slots.isEmpty else {
            return Ranking(candidates: candidates, refused: [], states: states, slots: slots)
        }
        var kept: [PeerView] = []
        var refused: [ElectionReport.Exclusion] = []
        for candidate in candidates {
            if states[candidate.nodeID] == SlotState.absent, !alwaysPromote {
                refused.append(.init(nodeID: candidate.nodeID, reason: "\(candidate.label) holds none of the failover logical slots "
                    + "(\(slots.keys.sorted().joined(separator: ", "))): not promoted (always_promote overrides)"))
            } else {
                kept.append(candidate)
            }
        }
        kept.sort { a, b in
            let lsnA = a.lastReceivedLSN ?? .zero, lsnB = b.lastReceivedLSN ?? .zero
            if lsnA != lsnB { return lsnA > lsnB }
            let stateA = states[a.nodeID] ?? SlotState.absent, stateB = states[b.nodeID] ?? SlotState.absent
            if stateA != stateB { return stateA > stateB }
            return Election.ranks(a, before: b)
        }
        return Ranking(candidates: kept, refused: refused, states: states, slots: slots)
    }

    /// For an event's details: the slots a promoted standby held with their `confirmed_flush_lsn`, e.g.
    /// `logical slots moved: audit (0/3000100), orders (0/3000060)`; `nil` when it held none.
    public static func movedSlots(_ held: [String: LSN]) -> String? {
        guard !held.isEmpty else { return nil }
        return "logical slots moved: " + held.keys.sorted().map { "\($0) (\(held[$0]!))" }.joined(separator: ", ")
    }
}

extension LogicalSlotFailover {
    /// The switchover pre-check of `logical_slot_failover`: the candidate should hold every failover logical
    /// slot of the primary (`primarySlots`), synced. Holding none of them refuses the switchover (a warning
    /// with `alwaysPromote`); missing some is a warning naming them; `nil` when there is nothing to say
    /// (no failover slot on the primary, or every one is on the candidate).
    public static func switchoverFinding(primarySlots: [String: LSN]?, candidateSlots: [String: LSN]?,
                                         alwaysPromote: Bool) -> SwitchoverFinding? {
        guard let primarySlots, !primarySlots.isEmpty else { return nil }
        let held = candidateSlots ?? [:]
        let missing = primarySlots.keys.filter { held[$0] == nil }.sorted()
        guard !missing.isEmpty else { return nil }
        let names = missing.joined(separator: ", ")
        if missing.count == primarySlots.count {
            let message = "this standby holds none of the primary's failover logical slots (\(names)): their consumers would lose them"
            return alwaysPromote ? SwitchoverFinding(.warning, message + " (--always-promote)")
                : SwitchoverFinding(.refusal, message, hint: "wait for slot synchronisation (sync_replication_slots), or use --always-promote")
        }
        return SwitchoverFinding(.warning, "failover logical slots not synced to this standby yet, lost by the switchover: \(names)")
    }
}

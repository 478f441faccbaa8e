/// The failover rule of synchronous mode: promote only a standby proven to hold every acknowledged
/// commit.
///
/// With `ANY N` over a set S of M standbys, every acknowledged commit is on at least N members of S.
/// Any M − N + 1 members of S include at least one of those N, so once at least M − N + 1 members
/// report their last received LSN, the most advanced of them holds every acknowledged commit (WAL is one
/// stream: a higher LSN on the same timeline holds everything before it), and so does any standby at
/// or past that LSN. With fewer reports nothing is proven and no standby is promoted.
///
/// S and N are those of the record in force (`SyncRecord`), which the primary's keeld writes before a
/// wider quorum may acknowledge anything and replaces by a narrower one only after the narrower quorum
/// holds every earlier commit. A standby reads the record from its own replicated metadata; one whose
/// replay lags behind the WAL it received may read an older record, so a node counts (as a reporter
/// and as a source of the record) only when its replay has caught up. The newest record among the
/// reporters is the one in force: a newer one was confirmed by members of the older one's set before
/// it took effect, and the older rule's reporters include one of them.
public enum SyncFailoverRule {
    /// What the rule allows.
    public enum Verdict: Sendable, Equatable {
        /// Synchronous mode is off on this node: the election promotes as without it.
        case unconstrained
        /// Proven: a standby at or past `required` holds every acknowledged commit. `reporters`: the
        /// members of the record's set that reported, most advanced first.
        case proven(required: LSN, record: SyncRecord, reporters: [Int])
        /// Nothing can be proven: the sentence says why.
        case blocked(reason: String)
    }

    /// The verdict from this node's `mode` and the views of this node and every other node.
    public static func evaluate(mode: SynchronousMode, nodes: [PeerView]) -> Verdict {
        guard mode != .off else { return .unconstrained }
        let counted = nodes.filter(counts)
        guard let record = counted.compactMap(\.syncRecord).max(by: { $0.generation < $1.generation }) else {
            let lagging = nodes.filter { $0.reachable && $0.isInRecovery == true && !$0.replayCaughtUp }
            let note = lagging.isEmpty ? "" : " (\(names(lagging)) still replaying the WAL received)"
            return .blocked(reason: "synchronous_mode is \(mode) but no reporting standby holds a recorded synchronous "
                            + "standby set\(note): no standby can be proven to hold every acknowledged commit")
        }
        let set = record.set
        let needed = max(1, set.members.count - set.count + 1)
        let reporters = counted.filter { set.members.contains($0.nodeID) && $0.lastReceivedLSN != nil }
            .sorted { ($0.lastReceivedLSN ?? .zero) > ($1.lastReceivedLSN ?? .zero) }
        guard reporters.count >= needed, let best = reporters.first?.lastReceivedLSN else {
            let missing = set.members.subtracting(reporters.map(\.nodeID)).sorted()
            return .blocked(reason: "only \(reporters.count) of the \(set.members.count) standbys of the synchronous set "
                            + "\(describe(set, nodes)) (record generation \(record.generation)) reported their LSN, "
                            + "\(needed) are needed to prove a standby holds every acknowledged commit; not reporting: "
                            + missing.map { label($0, nodes) }.joined(separator: ", "))
        }
        return .proven(required: best, record: record, reporters: reporters.map(\.nodeID))
    }

    /// A node that counts: reachable, in recovery, its replay caught up with the WAL it received.
    static func counts(_ node: PeerView) -> Bool {
        node.reachable && node.isInRecovery == true && node.replayCaughtUp && node.type == .standby
    }

    /// `ANY 1 ("node2", "node3")`, names where known.
    public static func describe(_ set: SyncSet, _ nodes: [PeerView]) -> String {
        var names: [Int: String] = [:]
        for node in nodes { names[node.nodeID] = node.name }
        for id in set.members where names[id] == nil { names[id] = "node \(id)" }
        return SyncStandbyNames.render(set, names: names)
    }

    private static func label(_ id: Int, _ nodes: [PeerView]) -> String {
        nodes.first { $0.nodeID == id }?.label ?? "node \(id)"
    }

    private static func names(_ nodes: [PeerView]) -> String {
        nodes.map(\.label).joined(separator: ", ")
    }
}

/// Whether a primary must fence because of what it cannot see, by the election's own arithmetic
/// (`Election.evaluate`): the nodes it cannot see are assumed to be together on the other side of a
/// partition, and the primary fences when they could hold an election without it there.
///
/// For a standby `s` of the primary on the other side `B`, `Election` promotes only when
/// 1. `B` holds an eligible candidate: an active standby of the primary with priority > 0;
/// 2. a node of `B` that shares the upstream is in the primary's `location`;
/// 3. quorum: the nodes of `B` sharing the upstream (standbys of the primary and active witnesses) are
///    more than half of all nodes sharing it.
/// (`primary_visibility_consensus` never cancels there: across a partition nobody sees the primary.)
/// The primary fences exactly when all three hold for the set of nodes it cannot see, so for every
/// split of the cluster "primary unfenced on its side" and "an election possible on the other" are
/// never both true. In a two-node cluster (one standby, no witness) the lone standby always has
/// quorum, so with `fencing=auto` the primary keeps repmgr's behaviour there and never fences.
public enum IsolationRule {
    /// What the rule found.
    public struct Verdict: Sendable, Equatable {
        /// The primary must fence (once isolated for `primary_isolation_timeout`).
        public var isolated: Bool
        /// Nodes sharing the primary as upstream (its active standbys and the active witnesses).
        public var sharing: Int
        /// Of those, the ones the primary sees.
        public var visible: Int
        /// A two-node cluster: one standby, no witness.
        public var twoNode: Bool
        /// The reasoning in one sentence, for the log.
        public var sentence: String
    }

    /// The nodes that share `primary` as upstream in an election: its active standbys and the active
    /// witnesses (`Election`'s siblings + witnesses, and the electing standby itself).
    public static func sharing(primaryID: Int, peers: [PeerView]) -> [PeerView] {
        peers.filter { $0.nodeID != primaryID && $0.active
            && (($0.type == .standby && $0.upstreamNodeID == primaryID) || $0.type == .witness) }
    }

    /// Whether the nodes of `side` (node IDs) could elect and promote a new primary without `primary`.
    public static func electionPossible(primary: PeerView, peers: [PeerView], side: Set<Int>) -> Bool {
        let sharing = sharing(primaryID: primary.nodeID, peers: peers)
        let there = sharing.filter { side.contains($0.nodeID) }
        let candidate = there.contains { $0.type == .standby && $0.priority > 0 }
        let location = there.contains { $0.location == primary.location }
        let quorum = Double(there.count) > Double(sharing.count) / 2
        return candidate && location && quorum
    }

    /// The primary's verdict: `peers` are the other registered nodes, `reachable` meaning "the primary
    /// sees it now"; `mode` applies the two-node exception (`auto`) or turns the rule off (`off`).
    public static func evaluate(primary: PeerView, peers: [PeerView], mode: FencingMode) -> Verdict {
        let sharing = sharing(primaryID: primary.nodeID, peers: peers)
        let unseen = Set(sharing.filter { !$0.reachable }.map(\.nodeID))
        let twoNode = sharing.count == 1 && sharing[0].type == .standby
        let visible = sharing.count - unseen.count
        var verdict = Verdict(isolated: false, sharing: sharing.count, visible: visible, twoNode: twoNode, sentence: "")
        let counts = "\(visible) of \(sharing.count) nodes sharing this primary as upstream are visible"
        guard electionPossible(primary: primary, peers: peers, side: unseen) else {
            verdict.sentence = "\(counts): the others cannot elect a new primary"
            return verdict
        }
        switch mode {
        case .off:
            verdict.sentence = "\(counts) and the others could elect a new primary, but fencing is off"
        case .auto where twoNode:
            verdict.sentence = "\(counts): the only standby could elect itself, but a two-node cluster is not fenced "
                + "with fencing=auto (use fencing=strict or add a witness)"
        default:
            verdict.isolated = true
            verdict.sentence = "\(counts): the \(unseen.count) unseen nodes could elect a new primary without this one"
        }
        return verdict
    }
}

/// What a primary's keeld read from one other registered node in a probe round.
public struct NodeSighting: Sendable, Equatable {
    /// `node_id`.
    public var nodeID: Int
    /// `node_name`.
    public var name: String
    /// `type` in the metadata.
    public var type: NodeType
    /// The probe connected and got an answer within its deadline.
    public var reachable: Bool
    /// `pg_is_in_recovery()`, when reachable.
    public var isInRecovery: Bool?
    /// Its timeline, when reachable.
    public var timeline: Int?
    /// Its copy of the voting term, when reachable and readable.
    public var term: Int?

    /// A sighting; unreachable unless told otherwise.
    public init(nodeID: Int, name: String, type: NodeType, reachable: Bool = false, isInRecovery: Bool? = nil,
                timeline: Int? = nil, term: Int? = nil) {
        self.nodeID = nodeID
        self.name = name
        self.type = type
        self.reachable = reachable
        self.isInRecovery = isInRecovery
        self.timeline = timeline
        self.term = term
    }

    /// `node "name" (ID: n)`.
    public var label: String { "node \"\(name)\" (ID: \(nodeID))" }
}

/// Whether a node running as primary has been superseded: another node shows a later timeline or a
/// higher voting term. A witness is not evidence (its metadata copy may come from any primary).
public enum Supersession {
    /// What shows this node is a former primary.
    public struct Evidence: Sendable, Equatable {
        /// The node that shows it (a primary when one does, else a standby following one).
        public var node: NodeSighting
        /// The sentence for the log and the `node_fenced` event.
        public var sentence: String
    }

    /// The evidence that this node (on `timeline`, knowing voting term `term`) is a former primary, or
    /// `nil`. A reachable node out of recovery is preferred as the evidence.
    public static func evidence(timeline: Int, term: Int?, sightings: [NodeSighting]) -> Evidence? {
        let newer = sightings.filter { s in
            guard s.reachable, s.type != .witness else { return false }
            let laterTimeline = (s.timeline ?? 0) > timeline
            let higherTerm = term.map { mine in (s.term ?? mine) > mine } ?? false
            return laterTimeline || higherTerm
        }
        guard let node = newer.first(where: { $0.isInRecovery == false }) ?? newer.first else { return nil }
        let role = node.isInRecovery == false ? "runs as primary" : "is a standby"
        var facts: [String] = []
        if let tli = node.timeline, tli > timeline { facts.append("timeline \(tli) (this node: \(timeline))") }
        if let theirs = node.term, let mine = term, theirs > mine { facts.append("voting term \(theirs) (this node: \(mine))") }
        return Evidence(node: node, sentence: "\(node.label) \(role) on " + facts.joined(separator: " and ")
            + ": this node is a former primary")
    }
}

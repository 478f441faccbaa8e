/// A node's role as recorded in `repmgr.nodes.type` (repmgr 5.x's CHECK constraint allows these four).
public enum NodeType: String, Sendable, Codable, CaseIterable {
    case primary, standby, witness, bdr
}

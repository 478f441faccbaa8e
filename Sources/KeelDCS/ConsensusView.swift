#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore

/// What the consensus store says about the cluster, read by `keel cluster show` (so that it answers with the
/// primary down): the leader key's holder and revision, and every member's published status.
public struct ConsensusView: Sendable {
    /// The node named by the leader key and the key's creation revision; `nil` when no node holds it.
    public var leader: (nodeID: Int, revision: Int64)?
    /// Each published member: node ID → status.
    public var members: [Int: MemberStatus]

    /// Reads the store of `settings` (each call bounded by its deadline); throws `DCSError`.
    public static func read(_ settings: DCSSettings) throws -> ConsensusView {
        let store = EtcdStore(settings)
        let leader = try store.get(settings.leaderKey).map { (Int($0.value) ?? -1, $0.createRevision) }
        let prefix = settings.prefix + "members/"
        var members: [Int: MemberStatus] = [:]
        for kv in try store.list(prefix: prefix) {
            if let id = Int(kv.key.dropFirst(prefix.count)), let status = MemberStatus(json: kv.value) { members[id] = status }
        }
        return ConsensusView(leader: leader, members: members)
    }

    /// The heading line and one row per member (ID, name, role, LSN, timeline, fenced, leader mark).
    public func rows() -> (heading: String, rows: [[String]]) {
        let heading = leader.map { "leader key held by node \($0.nodeID) (revision \($0.revision))" } ?? "no node holds the leader key"
        let rows = members.keys.sorted().map { id -> [String] in
            let m = members[id]!
            return [String(id), m.name, m.role, m.lsn ?? "?", m.timeline.map(String.init) ?? "?", m.fenced ? "yes" : "no",
                    leader?.nodeID == id ? "*" : ""]
        }
        return (heading, rows)
    }
}

extension MemberStatus {
    private struct Shape: Decodable {
        var role: String
        var name: String
        var lsn: String?
        var timeline: Int?
        var fenced: Bool
    }

    /// Parses the JSON `json` produces; `nil` when it is not that shape.
    public init?(json: String) {
        guard let s = try? JSONDecoder().decode(Shape.self, from: Data(json.utf8)) else { return nil }
        self.init(role: s.role, name: s.name, lsn: s.lsn, timeline: s.timeline, fenced: s.fenced)
    }
}

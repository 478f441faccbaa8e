/// A synchronous quorum: `ANY count (members)`, members by node ID. `count` 0 (no members) is
/// asynchronous replication: commits wait for no standby.
public struct SyncSet: Sendable, Hashable, CustomStringConvertible {
    /// How many members must confirm a commit (N of `ANY N`).
    public var count: Int
    /// The standbys' node IDs.
    public var members: Set<Int>

    /// A quorum of `count` among `members`.
    public init(count: Int, members: Set<Int>) {
        self.count = count
        self.members = members
    }

    /// Asynchronous: `synchronous_standby_names = ''`.
    public static let async = SyncSet(count: 0, members: [])

    /// True when commits wait for no standby.
    public var isAsync: Bool { count == 0 || members.isEmpty }

    /// `ANY 1 (2, 3)` (node IDs), or `async`.
    public var description: String {
        isAsync ? "async" : "ANY \(count) (\(members.sorted().map(String.init).joined(separator: ", ")))"
    }

    /// True when every commit acknowledged under `other` is also on at least `count` of `members`:
    /// `other` is asynchronous (it promises nothing), or its members are among these and it waits for
    /// at least as many.
    public func covers(_ other: SyncSet) -> Bool {
        other.isAsync || (other.members.isSubset(of: members) && other.count >= count)
    }
}

/// What the primary's keeld recorded in the metadata (replicated to every standby) before it let a
/// quorum acknowledge commits: every commit acknowledged since this record's predecessor was replaced
/// is on at least `set.count` of `set.members`. `generation` grows by one with each record.
public struct SyncRecord: Sendable, Hashable, CustomStringConvertible {
    /// 1 for the first record, +1 for each later one.
    public var generation: Int
    /// The quorum every acknowledged commit satisfies.
    public var set: SyncSet

    /// A record.
    public init(generation: Int, set: SyncSet) {
        self.generation = generation
        self.set = set
    }

    /// `generation 3: ANY 1 (2, 3)`.
    public var description: String { "generation \(generation): \(set)" }
}

/// A key and its value as the consensus store holds it.
public struct KeyValue: Sendable, Equatable {
    /// The key.
    public var key: String
    /// The value.
    public var value: String
    /// The store's revision when the key was created (etcd's `create_revision`).
    public var createRevision: Int64
    /// The store's revision when it last changed (`mod_revision`).
    public var modRevision: Int64
    /// The lease it lives under (0 = none).
    public var lease: Int64

    /// A key/value.
    public init(key: String, value: String, createRevision: Int64, modRevision: Int64, lease: Int64) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.lease = lease
    }
}

/// The condition of `ConsensusStore.putIf`.
public enum PutCondition: Sendable, Equatable {
    /// The key does not exist.
    case absent
    /// The key was last changed at this revision.
    case modRevision(Int64)
}

/// Why a store call failed: no endpoint answered in time, or the store answered an error.
public struct DCSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What happened, for the log.
    public var message: String
    /// An error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The operations keeld needs from a consensus store (etcd's v3 API): leases, a conditional put
/// (a transaction: create if absent), reads, puts and a conditional delete. Every call ends by its deadline
/// and fails with `DCSError`; none blocks longer.
public protocol ConsensusStore: AnyObject, Sendable {
    /// Grants a lease of `ttl` seconds; its ID.
    func grantLease(ttl: Int) throws -> Int64
    /// Renews `lease`; false when it expired (or never existed).
    func keepAlive(_ lease: Int64) throws -> Bool
    /// Ends `lease` now, with every key under it (an unknown lease is not an error).
    func revokeLease(_ lease: Int64) throws
    /// Puts `key` = `value` under `lease` when `condition` holds (one transaction). Returns whether it did
    /// and, when it did not, the key as it is (`nil`: absent).
    func putIf(_ key: String, value: String, lease: Int64, condition: PutCondition) throws -> (done: Bool, current: KeyValue?)
    /// `key`, or `nil` when absent.
    func get(_ key: String) throws -> KeyValue?
    /// Every key under `prefix`.
    func list(prefix: String) throws -> [KeyValue]
    /// Puts `key` = `value` under `lease` (0 = none).
    func put(_ key: String, value: String, lease: Int64) throws
    /// Deletes `key` when its value is `value` (one transaction); true when it did.
    func deleteIf(_ key: String, value: String) throws -> Bool
}

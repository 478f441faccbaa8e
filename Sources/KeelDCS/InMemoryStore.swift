import KeelCore

/// A `ConsensusStore` in memory with etcd's semantics (revisions, leases that expire `ttl` after their
/// grant or last renewal on the given clock), for unit tests; `reachable = false` makes every call fail
/// as an unreachable store does.
public final class InMemoryStore: ConsensusStore, @unchecked Sendable {
    private let lock = Lock()
    private let clock: @Sendable () -> Double
    private var keys: [String: KeyValue] = [:]
    private var leases: [Int64: (ttl: Double, expires: Double)] = [:]
    private var revision: Int64 = 1
    private var nextLease: Int64 = 100
    private var unreachable = false
    private var counts: [String: Int] = [:]

    /// An empty store on `clock` (seconds).
    public init(clock: @escaping @Sendable () -> Double) { self.clock = clock }

    /// How many calls of each kind (`grantLease`, `keepAlive`, `putIf`, `get`, `list`, `put`, `deleteIf`) were made.
    public var calls: [String: Int] { lock.withLock { counts } }

    /// False: every call throws.
    public var reachable: Bool {
        get { lock.withLock { !unreachable } }
        set { lock.withLock { unreachable = !newValue } }
    }

    public func grantLease(ttl: Int) throws -> Int64 {
        try locked("grantLease") {
            nextLease += 1
            leases[nextLease] = (Double(ttl), clock() + Double(ttl))
            return nextLease
        }
    }

    public func keepAlive(_ lease: Int64) throws -> Bool {
        try locked("keepAlive") {
            guard let entry = leases[lease] else { return false }
            leases[lease] = (entry.ttl, clock() + entry.ttl)
            return true
        }
    }

    public func revokeLease(_ lease: Int64) throws {
        try locked("revokeLease") {
            leases[lease] = nil
            keys = keys.filter { $0.value.lease != lease }
        }
    }

    public func putIf(_ key: String, value: String, lease: Int64, condition: PutCondition) throws -> (done: Bool, current: KeyValue?) {
        try locked("putIf") {
            let current = keys[key]
            let holds = switch condition {
            case .absent: current == nil
            case .modRevision(let r): current?.modRevision == r
            }
            guard holds else { return (false, current) }
            try store(key, value, lease)
            return (true, nil)
        }
    }

    public func get(_ key: String) throws -> KeyValue? { try locked("get") { keys[key] } }

    public func list(prefix: String) throws -> [KeyValue] {
        try locked("list") { keys.values.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key } }
    }

    public func put(_ key: String, value: String, lease: Int64) throws { try locked("put") { try store(key, value, lease) } }

    public func deleteIf(_ key: String, value: String) throws -> Bool {
        try locked("deleteIf") {
            guard keys[key]?.value == value else { return false }
            keys[key] = nil
            revision += 1
            return true
        }
    }

    /// Ends every lease whose time passed, with its keys; then runs `body`. Throws when unreachable.
    private func locked<T>(_ call: String, _ body: () throws -> T) throws -> T {
        try lock.withLock {
            guard !unreachable else { throw DCSError("store unreachable") }
            counts[call, default: 0] += 1
            let now = clock()
            for (id, entry) in leases where entry.expires <= now {
                leases[id] = nil
                keys = keys.filter { $0.value.lease != id }
            }
            return try body()
        }
    }

    private func store(_ key: String, _ value: String, _ lease: Int64) throws {
        guard lease == 0 || leases[lease] != nil else { throw DCSError("requested lease not found") }
        revision += 1
        let created = keys[key]?.createRevision ?? revision
        keys[key] = KeyValue(key: key, value: value, createRevision: created, modRevision: revision, lease: lease)
    }
}

import KeelCore

/// One keeld's session with the consensus store: its lease (granted on first use, renewed by each attempt,
/// granted again once expired), the leader key held or won under it, and its member status published under
/// it. Turns every store answer into a `LeaderObservation`, the only thing the failover core sees. Used from
/// keeld's monitoring task (one call at a time).
public final class LeaderSession: @unchecked Sendable {
    /// The store's settings.
    public let settings: DCSSettings
    private let store: ConsensusStore
    private let nodeID: Int
    private let clock: @Sendable () -> Double
    private let lock = Lock()
    private var lease: Int64?
    private var lastHeld: Double?
    /// When the lease was last renewed or granted (publishing reuses a fresh lease rather than renewing it).
    private var renewedAt: Double?
    /// What was last published, under which lease, when: an unchanged status is not written again, and one
    /// whose LSN alone moved at most every `dcs_ttl`/4 seconds.
    private var published: (value: String, essential: String, lease: Int64, at: Double)?
    /// The lease under which a transaction last confirmed the key names this node, and when.
    private var confirmed: (lease: Int64, at: Double)?
    /// False once a release found the key not naming this node (a standby at rest asks nothing more).
    private var mayHoldKey = true
    /// The last read of this node's pause key, the metadata flag then, and when it was made (`storedPause`).
    private var pauseRead: (answer: StoredPause, flag: Bool, at: Double)?

    /// A session of node `nodeID` with `store`; `clock` is keeld's monotonic clock (seconds).
    public init(store: ConsensusStore, settings: DCSSettings, nodeID: Int, clock: @escaping @Sendable () -> Double) {
        self.store = store
        self.settings = settings
        self.nodeID = nodeID
        self.clock = clock
    }

    /// When the last attempt that found this node holding the key was sent (`nil`: none yet).
    public var heldSince: Double? { lock.withLock { lastHeld } }

    /// One attempt to hold (a primary) or win (a standby) the leader key: renew the lease (or grant one),
    /// then create the key if absent — or, when it already names this node under an older lease (keeld
    /// restarted), move it to this lease.
    public func attempt() -> LeaderObservation {
        let sentAt = clock()
        let me = String(nodeID)
        do {
            let lease = try liveLease(maxAge: 0)
            // The lease is alive, so the key confirmed under it lately still exists (a takeover revokes the
            // former holder's lease): the transaction is repeated every dcs_ttl/4 seconds only.
            if let last = lock.withLock({ confirmed }), last.lease == lease, sentAt - last.at < settings.ttl / 4 {
                lock.withLock { lastHeld = sentAt }
                return .held(sentAt: sentAt)
            }
            var (done, current) = try store.putIf(settings.leaderKey, value: me, lease: lease, condition: .absent)
            if !done, let held = current, held.value == me, held.lease != lease {
                (done, current) = try store.putIf(settings.leaderKey, value: me, lease: lease, condition: .modRevision(held.modRevision))
            }
            if done || (current?.value == me && current?.lease == lease) {
                lock.withLock { lastHeld = sentAt; mayHoldKey = true; confirmed = (lease, sentAt) }
                return .held(sentAt: sentAt)
            }
            guard let current, current.value != me else { return .unavailable(reason: "the leader key changed during the attempt") }
            return .heldBy(nodeID: Int(current.value) ?? -1)
        } catch {
            return .unavailable(reason: "\(error)")
        }
    }

    /// The node named by the leader key and the key's creation revision (the voting term of the lease), or
    /// `nil` when no node holds it. Throws `DCSError` when the store cannot be read.
    public func leader() throws -> (nodeID: Int, revision: Int64)? {
        guard let kv = try store.get(settings.leaderKey) else { return nil }
        return (Int(kv.value) ?? -1, kv.createRevision)
    }

    /// Gives the leader key up when it names this node (a primary that became a standby: a switchover's
    /// former primary), so that the new primary takes it without waiting for the lease. True when released.
    @discardableResult
    public func release() throws -> Bool {
        guard lock.withLock({ mayHoldKey }) else { return false }
        let released = try store.deleteIf(settings.leaderKey, value: String(nodeID))
        lock.withLock { lastHeld = nil; mayHoldKey = false; confirmed = nil }
        return released
    }

    /// This node's pause key (`keel service pause|unpause`), read at most every `dcs_ttl`/4 seconds (as often
    /// as a standby publishes; 1 s at least) — at once when `metadataFlag` (the pause flag in the metadata)
    /// changed since the last read, since every writer of the flag writes the key too. A store that does not
    /// answer gives `.unreachable`, so costs a monitoring round at most one call deadline now and then.
    public func storedPause(metadataFlag: Bool) -> StoredPause {
        let now = clock()
        if let last = lock.withLock({ pauseRead }), last.flag == metadataFlag, now - last.at < max(1, settings.ttl / 4) {
            return last.answer
        }
        let answer: StoredPause
        do {
            answer = StoredPause(value: try store.get(settings.pauseKey(nodeID))?.value)
        } catch {
            answer = .unreachable("\(error)")
        }
        lock.withLock { pauseRead = (answer, metadataFlag, now) }
        return answer
    }

    /// Publishes this node's status under `<prefix>members/<id>`, under the session's lease.
    public func publish(_ status: MemberStatus) throws {
        let lease = try liveLease(maxAge: settings.ttl / 4)
        let value = status.json
        let essential = "\(status.role)|\(status.name)|\(status.timeline ?? -1)|\(status.fenced)"
        let now = clock()
        if let last = lock.withLock({ published }), last.lease == lease,
           last.value == value || (last.essential == essential && now - last.at < settings.ttl / 4) { return }
        try store.put(settings.memberKey(nodeID), value: value, lease: lease)
        lock.withLock { published = (value, essential, lease, now) }
    }

    /// Every member status published (nodes whose keeld stopped more than `dcs_ttl` ago are gone).
    public func members() throws -> [Int: String] {
        let prefix = settings.prefix + "members/"
        var result: [Int: String] = [:]
        for kv in try store.list(prefix: prefix) {
            if let id = Int(kv.key.dropFirst(prefix.count)) { result[id] = kv.value }
        }
        return result
    }

    /// The session's lease: as it is when renewed less than `maxAge` seconds ago, else renewed; a new one
    /// when it expired.
    private func liveLease(maxAge: Double) throws -> Int64 {
        let now = clock()
        let (current, at) = lock.withLock { (lease, renewedAt) }
        if let current, let at, now - at < maxAge { return current }
        if let current, try store.keepAlive(current) {
            lock.withLock { renewedAt = now }
            return current
        }
        let fresh = try store.grantLease(ttl: Int(settings.ttl))
        lock.withLock { lease = fresh; renewedAt = now }
        return fresh
    }
}

/// What a keeld publishes about its node in the consensus store (JSON).
public struct MemberStatus: Sendable, Equatable {
    /// `primary`, `standby`, `witness` or `unknown`.
    public var role: String
    /// The node's name.
    public var name: String
    /// Its current LSN (a primary's write LSN, a standby's last received one), as text.
    public var lsn: String?
    /// Its timeline.
    public var timeline: Int?
    /// Whether it is fenced.
    public var fenced: Bool

    /// A status.
    public init(role: String, name: String, lsn: String?, timeline: Int?, fenced: Bool) {
        self.role = role
        self.name = name
        self.lsn = lsn
        self.timeline = timeline
        self.fenced = fenced
    }

    /// `{"fenced":…,"lsn":…,"name":…,"role":…,"timeline":…}`.
    public var json: String {
        func quoted(_ s: String) -> String { "\"" + s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\"" }
        return "{\"fenced\":\(fenced),\"lsn\":\(lsn.map(quoted) ?? "null"),\"name\":\(quoted(name)),"
            + "\"role\":\(quoted(role)),\"timeline\":\(timeline.map(String.init) ?? "null")}"
    }
}

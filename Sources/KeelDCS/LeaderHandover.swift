import KeelCore

/// `keel standby promote` (and so `standby switchover`) with a consensus store: the promoted node takes the
/// leader key in one transaction — created when absent, else replaced on the revision it was read at — under
/// a lease of `dcs_ttl` that its keeld then moves to its own session. The former holder's lease is revoked: a
/// primary still running there fails its next renewal, finds another node named and fences itself at once; no
/// wait for a lease to expire.
public enum LeaderHandover {
    /// Takes the key for `nodeID`; returns a sentence for the log. Throws `DCSError` when the store cannot be
    /// reached or the key changed between the read and the transaction.
    public static func takeOver(_ settings: DCSSettings, nodeID: Int, store: ConsensusStore? = nil) throws -> String {
        let store = store ?? EtcdStore(settings)
        let me = String(nodeID)
        let current = try store.get(settings.leaderKey)
        if current?.value == me { return "this node holds the leader key \(settings.leaderKey)" }
        let lease = try store.grantLease(ttl: Int(settings.ttl))
        let condition: PutCondition = current.map { .modRevision($0.modRevision) } ?? .absent
        let (done, now) = try store.putIf(settings.leaderKey, value: me, lease: lease, condition: condition)
        guard done else { throw DCSError("the leader key changed meanwhile (it names node \(now?.value ?? "none"))") }
        // The former holder's lease ends now: its next renewal fails, and it finds the key names this node.
        if let former = current?.lease, former != 0 { try? store.revokeLease(former) }
        return current.map { "leader key \(settings.leaderKey) taken over from node \($0.value)" }
            ?? "leader key \(settings.leaderKey) taken"
    }
}

/// The primary's side of synchronous mode, as pure rules: which quorum to ask for, and the one step
/// that moves the recorded guarantee (`SyncRecord`, replicated to the standbys) and the applied
/// `synchronous_standby_names` towards it without ever letting a commit be acknowledged by a quorum
/// the record does not cover.
///
/// The invariant: the record in force covers the applied quorum (`SyncSet.covers`). Widening (a
/// member joins, N falls) records first and applies after; narrowing (a member leaves, N grows)
/// applies first and records only once the new quorum provably holds everything acknowledged before
/// (`narrowingVerified`). In quorum mode the record never becomes asynchronous: when the quorum falls
/// to `''` (no healthy standby, `synchronous_mode_strict = off`) the last record stays, so a
/// failover still waits for the standbys that hold the commits acknowledged synchronously before.
public enum SyncPlan {
    /// One step towards `desired`.
    public enum Step: Sendable, Equatable {
        /// Nothing to do.
        case none
        /// Write this wider record (and let it reach the standbys) before applying anything.
        case widenRecord(SyncRecord)
        /// Set `synchronous_standby_names` to this quorum and reload.
        case apply(SyncSet)
        /// Write this narrower record: the applied quorum holds everything acknowledged before.
        case narrowRecord(SyncRecord)
        /// The applied quorum is narrower than the record; wait until it provably holds every commit
        /// acknowledged under the record's wider quorum, then narrow the record.
        case awaitNarrowing
    }

    /// The quorum to ask for. `healthy`: the standbys streaming from this primary. With at least N
    /// healthy: `ANY N (healthy)`. With fewer, `strict` off: `ANY k (healthy)` with k = how many are
    /// healthy, or asynchronous when none is. `strict` on: still N, over the healthy ones plus the
    /// members applied so far (then other `registered` standbys, by node ID) until there are N: commits
    /// wait until enough of them stream again.
    public static func desired(mode: SynchronousMode, strict: Bool, healthy: Set<Int>, applied: SyncSet?,
                               registered: Set<Int>) -> SyncSet {
        let count = mode.count
        guard count > 0 else { return .async }
        if healthy.count >= count { return SyncSet(count: count, members: healthy) }
        guard strict else { return healthy.isEmpty ? .async : SyncSet(count: healthy.count, members: healthy) }
        var members = healthy.union(applied?.members ?? [])
        for id in registered.sorted() where members.count < count { members.insert(id) }
        return SyncSet(count: count, members: members)
    }

    /// The next step from the `record` in force (`nil`: none yet) and the `applied` quorum (`nil`: a
    /// setting keeld did not write) towards `desired`.
    public static func next(record: SyncRecord?, applied: SyncSet?, desired: SyncSet, narrowingVerified: Bool) -> Step {
        let generation = (record?.generation ?? 0) + 1
        if !desired.isAsync, !(record?.set.covers(desired) ?? false) {
            let wider = record.map {
                SyncSet(count: min($0.set.count, desired.count), members: $0.set.members.union(desired.members))
            } ?? desired
            return .widenRecord(SyncRecord(generation: generation, set: wider))
        }
        if applied != desired { return .apply(desired) }
        guard let record, !desired.isAsync, record.set != desired else { return .none }
        return narrowingVerified ? .narrowRecord(SyncRecord(generation: generation, set: desired)) : .awaitNarrowing
    }

    /// True when `set` holds every commit written before `lsn`: at least `set.count` of its members
    /// confirmed a flush at or past it (`flushed`: node ID → `pg_stat_replication.flush_lsn`).
    public static func holdsAll(_ set: SyncSet, before lsn: LSN, flushed: [Int: LSN]) -> Bool {
        set.members.filter { (flushed[$0] ?? .zero) >= lsn }.count >= set.count
    }
}

import KeelCore

extension MetadataStore {
    /// The `synchronous_mode` record (`repmgr.keel_sync_quorum`), or `nil` when there is none or the
    /// table does not exist yet.
    public func syncRecord() throws(PostgresError) -> SyncRecord? {
        guard try connection.queryRow("SELECT pg_catalog.to_regclass('repmgr.keel_sync_quorum') IS NOT NULL AS present")?
            .bool("present") == true else { return nil }
        guard let row = try connection.queryRow("SELECT generation, quorum, members FROM repmgr.keel_sync_quorum WHERE id = 1"),
              let generation = row.int("generation"), let quorum = row.int("quorum") else { return nil }
        let members = (row.string("members") ?? "").split(separator: ",").compactMap { Int($0) }
        return SyncRecord(generation: generation, set: SyncSet(count: quorum, members: Set(members)))
    }

    /// Writes `record` (must run on the primary). The commit waits for the quorum in force, as every
    /// commit does: once it returns, that quorum holds the record.
    public func writeSyncRecord(_ record: SyncRecord) throws(PostgresError) {
        try connection.query("""
            INSERT INTO repmgr.keel_sync_quorum (id, generation, quorum, members, recorded_at)
            VALUES (1, $1, $2, $3, pg_catalog.now())
            ON CONFLICT (id) DO UPDATE SET generation = EXCLUDED.generation, quorum = EXCLUDED.quorum,
              members = EXCLUDED.members, recorded_at = EXCLUDED.recorded_at
            """, [record.generation, record.set.count, record.set.members.sorted().map(String.init).joined(separator: ",")])
    }
}

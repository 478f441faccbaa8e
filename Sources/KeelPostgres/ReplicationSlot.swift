import KeelCore

/// A physical replication slot as `pg_replication_slots` shows it.
public enum ReplicationSlot {
    /// Whether slot `name` is in use on `conn`'s server: `true` active, `false` present but idle, `nil` when
    /// there is no such slot. Throws `PostgresError`.
    public static func isActive(_ name: String, on conn: Connection) throws(PostgresError) -> Bool? {
        guard let row = try conn.queryRow("SELECT active FROM pg_catalog.pg_replication_slots WHERE slot_name = $1", [name]) else {
            return nil
        }
        return row.bool("active") ?? false
    }
}

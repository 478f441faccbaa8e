import KeelCore

/// The walsenders of a server as `pg_stat_replication` lists them.
public enum ReplicationStates {
    /// `application_name` → `state` (`startup`, `catchup`, `streaming`, `backup`, `stopping`) of every
    /// walsender on `conn`'s server. Throws `PostgresError`.
    public static func read(_ conn: Connection) throws(PostgresError) -> [String: String] {
        var states: [String: String] = [:]
        for row in try conn.query("SELECT application_name, state FROM pg_catalog.pg_stat_replication") {
            if let name = row.string("application_name"), let state = row.string("state") { states[name] = state }
        }
        return states
    }
}

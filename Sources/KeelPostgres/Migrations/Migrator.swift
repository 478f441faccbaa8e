/// Applies `Migration.all` to a database, each version once, in its own transaction, recording applied
/// versions in `repmgr.keel_schema_migrations`. Running it again is a no-op; on a schema built by
/// repmgr's extension the `IF NOT EXISTS` statements leave repmgr's objects as they are.
public struct Migrator {
    public let connection: Connection

    public init(connection: Connection) { self.connection = connection }

    /// Applies the missing migrations and returns the versions it applied (empty when up to date).
    /// Throws `PostgresError` (the failing migration is rolled back; earlier ones stay).
    @discardableResult
    public func migrate() throws -> [Int] {
        try connection.query("CREATE SCHEMA IF NOT EXISTS repmgr")
        try connection.query("""
            CREATE TABLE IF NOT EXISTS repmgr.keel_schema_migrations (
              version    INTEGER     PRIMARY KEY,
              summary    TEXT        NOT NULL,
              applied_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP)
            """)
        let applied = Set(try connection.query("SELECT version FROM repmgr.keel_schema_migrations").compactMap { $0.int("version") })
        var done: [Int] = []
        for migration in Migration.all where !applied.contains(migration.version) {
            try connection.transaction {
                for statement in migration.statements { try connection.query(statement) }
                try connection.query("INSERT INTO repmgr.keel_schema_migrations (version, summary) VALUES ($1, $2)",
                                     [migration.version, migration.summary])
            }
            done.append(migration.version)
        }
        return done
    }

    /// Whether the repmgr metadata tables exist in this database (built by Keel or by repmgr).
    public func schemaExists() throws(PostgresError) -> Bool {
        try connection.queryRow("SELECT pg_catalog.to_regclass('repmgr.nodes') IS NOT NULL AS present")?.bool("present") ?? false
    }
}

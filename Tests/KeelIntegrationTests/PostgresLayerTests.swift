import Foundation
import Testing
import KeelCore
import KeelTesting
@testable import KeelPostgres

/// The libpq adapter and the migrations against a real PostgreSQL (15, or 18 in the second pass of scripts/test) server.
@Suite("libpq layer and metadata migrations", .serialized)
struct PostgresLayerTests {
    @Test("typed rows, bound parameters, SQLSTATE errors, ping, and no password in any error")
    func connectionBehaviour() throws {
        let ws = try TestWorkspace(name: "libpq")
        defer { ws.close() }
        let server = try ws.startPrimary(name: "pg")
        let conn = try Connection(conninfo: server.conninfo())
        #expect(conn.serverVersion >= 150000)

        let row = try #require(try conn.queryRow(
            "SELECT $1::int + 1 AS n, $2::text AS t, $3::bool AS b, '0/3000060'::pg_lsn AS l, NULL::int AS missing, 2.5::float8 AS d",
            [41, "it's; DROP TABLE x", true]))
        #expect(row.int("n") == 42)
        #expect(row.string("t") == "it's; DROP TABLE x")
        #expect(row.bool("b") == true)
        #expect(row.lsn("l") == LSN(0x3000060))
        #expect(row["missing"] == .null)
        #expect(row.double("d") == 2.5)

        let nullParam = try conn.queryRow("SELECT $1::text IS NULL AS isnull", [nil])
        #expect(nullParam?.bool("isnull") == true)

        do {
            try conn.query("SELECT * FROM no_such_table")
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .query)
            #expect(error.sqlState == "42P01")
            #expect(error.message.contains("no_such_table"))
            #expect(error.keelError.status == .dbQuery)
        }
        // The connection stays usable after a failed statement.
        #expect(try conn.queryRow("SELECT 1 AS one")?.int("one") == 1)

        #expect(Connection.ping(server.conninfo()) == .ok)
        let deadPort = try ws.freePort()
        #expect(Connection.ping("host=127.0.0.1 port=\(deadPort) connect_timeout=2") == .noResponse)
        do {
            _ = try Connection(conninfo: "host=127.0.0.1 port=\(deadPort) user=repmgr password=hunter2-secret connect_timeout=2")
            Issue.record("expected a connection error")
        } catch {
            #expect(error.kind == .connection)
            #expect(error.keelError.status == .dbConnection)
            #expect(!error.keelError.description.contains("hunter2-secret"))
            #expect(error.keelError.description.contains("password=..."))
        }
    }

    @Test("a password from a passfile (.pgpass) and PG* variables reach the server")
    func passfile() throws {
        let ws = try TestWorkspace(name: "pgpass")
        defer { ws.close() }
        let server = try ws.startPrimary(name: "pg")
        try server.psql("CREATE ROLE app LOGIN PASSWORD 'app-pw-123'")
        // Only `app` needs a password: put a scram line before the trust lines.
        let hba = server.dataDirectory + "/pg_hba.conf"
        let original = try String(contentsOfFile: hba, encoding: .utf8)
        try ("host all app 127.0.0.1/32 scram-sha-256\n" + original).write(toFile: hba, atomically: true, encoding: .utf8)
        try server.psql("SELECT pg_reload_conf()")
        try waitFor("pg_hba reloaded") { (try? Connection(conninfo: "host=127.0.0.1 port=\(server.port) user=app dbname=repmgr connect_timeout=2")) == nil }

        let passfile = try ws.writeFile("pgpass", "127.0.0.1:\(server.port):*:app:app-pw-123\n", mode: 0o600)
        if getuid() == 0 { chown(passfile, 0, 0) }   // libpq checks the passfile belongs to the caller
        let conn = try Connection(conninfo: "host=127.0.0.1 port=\(server.port) user=app dbname=repmgr passfile=\(passfile)")
        #expect(try conn.queryRow("SELECT current_user AS u")?.string("u") == "app")

        setenv("PGPASSWORD", "app-pw-123", 1)
        defer { unsetenv("PGPASSWORD") }
        let viaEnv = try Connection(conninfo: "host=127.0.0.1 port=\(server.port) user=app dbname=repmgr")
        #expect(try viaEnv.queryRow("SELECT current_user AS u")?.string("u") == "app")
    }

    @Test("migrations are versioned and idempotent, and adopt a schema created by repmgr")
    func migrations() throws {
        let ws = try TestWorkspace(name: "migrate")
        defer { ws.close() }
        let server = try ws.startPrimary(name: "pg")
        let conn = try Connection(conninfo: server.conninfo())
        let migrator = Migrator(connection: conn)
        #expect(try migrator.schemaExists() == false)
        #expect(try migrator.migrate() == Migration.all.map(\.version))
        #expect(try migrator.migrate().isEmpty)
        #expect(try server.psql("SELECT term FROM repmgr.voting_term") == "1")
        #expect(try server.psql("DELETE FROM repmgr.voting_term; SELECT count(*) FROM repmgr.voting_term") == "1", "the delete rule keeps the row")
        let columns = try server.psql("""
            SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns
             WHERE table_schema = 'repmgr' AND table_name = 'nodes'
            """)
        #expect(columns == "node_id,upstream_node_id,active,node_name,type,location,priority,conninfo,repluser,slot_name,config_file")

        // A schema made by repmgr (its tables, a row, no Keel migrations table) is used as it is.
        let adopted = try ws.startPrimary(name: "repmgr-made")
        try adopted.psql("""
            CREATE SCHEMA repmgr;
            CREATE TABLE repmgr.nodes (node_id INTEGER PRIMARY KEY, upstream_node_id INTEGER NULL REFERENCES repmgr.nodes (node_id) DEFERRABLE,
              active BOOLEAN NOT NULL DEFAULT TRUE, node_name TEXT NOT NULL, type TEXT NOT NULL CHECK (type IN ('primary','standby','witness','bdr')),
              location TEXT NOT NULL DEFAULT 'default', priority INT NOT NULL DEFAULT 100, conninfo TEXT NOT NULL, repluser VARCHAR(63) NOT NULL,
              slot_name TEXT NULL, config_file TEXT NOT NULL);
            CREATE TABLE repmgr.events (node_id INTEGER NOT NULL, event TEXT NOT NULL, successful BOOLEAN NOT NULL DEFAULT TRUE,
              event_timestamp TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP, details TEXT NULL);
            CREATE VIEW repmgr.show_nodes AS SELECT n.node_id, n.node_name FROM repmgr.nodes n;
            INSERT INTO repmgr.nodes VALUES (7, NULL, TRUE, 'old-primary', 'primary', 'dc9', 50, 'host=x', 'repmgr', NULL, '/etc/repmgr.conf');
            """)
        let adoptedConn = try Connection(conninfo: adopted.conninfo())
        #expect(try Migrator(connection: adoptedConn).schemaExists())
        try Migrator(connection: adoptedConn).migrate()
        let nodes = try MetadataStore(connection: adoptedConn).nodes()
        #expect(nodes.map(\.nodeName) == ["old-primary"])
        #expect(nodes.first?.location == "dc9")
        #expect(try adopted.psql("SELECT string_agg(column_name, ',') FROM information_schema.columns WHERE table_schema = 'repmgr' AND table_name = 'show_nodes'")
                == "node_id,node_name", "repmgr's own view is left as it is")
        #expect(try adopted.psql("SELECT count(*) FROM repmgr.voting_term") == "1")
    }
}

import Foundation
import Testing
import KeelTesting

/// `logical_slot_failover=on` on real PostgreSQL 17+ (scripts/test's PostgreSQL 18 pass): a logical slot
/// created with `failover = true` survives a kill -9 of the primary, and its consumer resumes on the new
/// primary without losing a change.
@Suite("logical slots across a failover (PostgreSQL 17+)", .serialized)
struct LogicalSlotFailoverTests {
    static let slot = "keel_orders"

    /// The `v` of every INSERT into fault_writes (in the repmgr user's schema) in test_decoding's output
    /// (`table repmgr.fault_writes: INSERT: node[text]:'node1' v[bigint]:42`).
    static func insertedValues(_ text: String) -> [Int64] {
        text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("table "), line.contains(".fault_writes: INSERT:"), let range = line.range(of: "v[bigint]:") else { return nil }
            return Int64(line[range.upperBound...].prefix { $0.isNumber })
        }
    }

    @Test("kill -9 of the primary, follow, rejoin with pg_rewind, switchover: pg_recvlogical resumes from the slot on each new primary, no change lost",
          .enabled(if: TestPostgres.isAtLeast(17),
                   "needs PostgreSQL 17+ binaries: set KEEL_PG_BINDIR (scripts/test runs this in its PostgreSQL 18 pass)"))
    func consumerSurvivesFailover() throws {
        let c = try FailoverCluster("slotfail", common: "logical_slot_failover=on", primarySettings: "wal_level = logical")
        let primary = c.server("node1")
        try primary.psql(Writer.createTableSQL)
        try primary.psql("SELECT pg_catalog.pg_create_logical_replication_slot('\(Self.slot)', 'test_decoding', false, false, true)")
        try c.startDaemons()
        try waitFor("the primary's keeld sets synchronized_standby_slots", timeout: 30) {
            c.query("node1", "SHOW synchronized_standby_slots") == "repmgr_slot_2,repmgr_slot_3"
        }
        let consumer = try Self.startConsumer(c)
        defer { _ = consumer.process.terminate() }
        let writer = Writer(targets: Dictionary(uniqueKeysWithValues: ["node1", "node2", "node3"].map { ($0, c.server($0).conninfo()) }))
        writer.start()
        defer { writer.stop() }
        for standby in ["node2", "node3"] {
            try Self.expectSlotSync(c, standby, from: "node1")
        }
        try waitFor("the consumer reads inserts", timeout: 30) { consumer.values().count >= 50 }

        try primary.kill()
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"], timeout: 90)
        let follower = winner == "node2" ? "node3" : "node2"
        let before = writer.writes.filter { $0.node == winner }.count
        try waitFor("writes acknowledged by the new primary \(winner)", timeout: 60) { writer.writes.filter { $0.node == winner }.count >= before + 100 }
        writer.stop()
        let afterFailover = try Self.expectNothingLost(c, on: winner, consumer: consumer)
        let lostPhysically = Set(writer.writes.filter { $0.node == "node1" }.map(\.value)).subtracting(afterFailover.rows).count
        let event = c.query(winner, "SELECT details FROM repmgr.events WHERE event = 'standby_promote' AND successful ORDER BY event_timestamp DESC LIMIT 1")
        #expect(event.contains("logical slots moved: \(Self.slot)"), "the promote event names the slot: \(event)")

        // Follow, then rejoin of the old primary with pg_rewind: both sync the slot from the new primary.
        try c.waitForStreaming(follower, from: winner)
        try Self.expectSlotSync(c, follower, from: winner)
        // Its own postgresql.conf (its port) is kept across pg_rewind.
        let rejoin = try c.f.keel("-f", c.f.config("node1"), "node", "rejoin", "-d", c.server(winner).conninfo(), "--force-rewind",
                                  "--config-files=postgresql.conf", "--config-archive-dir=\(c.f.workspace.path)/config-archive")
        try #require(rejoin.succeeded, "\(rejoin)")
        try c.waitForStreaming("node1", from: winner)
        try Self.expectSlotSync(c, "node1", from: winner)
        try waitFor("\(winner)'s keeld lists the slots of node1 and \(follower)", timeout: 30) {
            c.query(winner, "SHOW synchronized_standby_slots") == ["node1", follower].sorted().map { "repmgr_slot_\($0.dropFirst(4))" }.joined(separator: ",")
        }

        // Switchover back to node1, with inserts before and after: the consumer follows it.
        try c.server(winner).psql("INSERT INTO fault_writes SELECT 'before switchover', g FROM generate_series(1000001, 1000100) AS g")
        try waitFor("node1 replayed the inserts", timeout: 30) { c.query("node1", "SELECT count(*) FROM fault_writes WHERE v > 1000000") == "100" }
        let switchover = try c.f.keel("-f", c.f.config("node1"), "standby", "switchover", "--siblings-follow")
        try #require(switchover.succeeded, "\(switchover)")
        try primary.psql("INSERT INTO fault_writes SELECT 'after switchover', g FROM generate_series(1000101, 1000200) AS g")
        let final = try Self.expectNothingLost(c, on: "node1", consumer: consumer)
        print("[logical slot failover] kill -9: new primary \(winner), rows \(afterFailover.rows.count), changes consumed "
            + "\(afterFailover.consumed), duplicates \(afterFailover.duplicates); acknowledged on node1 but not replicated (async): "
            + "\(lostPhysically); after rejoin and switchover: rows \(final.rows.count), changes consumed \(final.consumed), "
            + "duplicates \(final.duplicates)")
    }

    /// pg_recvlogical on the slot, writing to `changes.txt`. It follows whichever node accepts writes (libpq
    /// tries the hosts in turn) and, after a lost connection, reconnects by itself every 5 seconds.
    static func startConsumer(_ c: FailoverCluster) throws -> (process: BackgroundProcess, values: () -> [Int64]) {
        let ws = c.f.workspace
        let hosts = ["node1", "node2", "node3"].map { c.server($0) }
        let conninfo = "host=" + hosts.map { _ in "127.0.0.1" }.joined(separator: ",") + " port="
            + hosts.map { String($0.port) }.joined(separator: ",") + " user=repmgr dbname=repmgr connect_timeout=2 target_session_attrs=read-write"
        let changes = ws.path + "/changes.txt"
        let process = try ws.spawn("pg_recvlogical", ["-d", conninfo, "-S", slot, "--start", "-f", changes, "-F", "1", "-s", "1",
                                                      "-o", "include-xids=false", "-o", "skip-empty-xacts=true"], name: "pg_recvlogical")
        return (process, { insertedValues((try? String(contentsOfFile: changes, encoding: .utf8)) ?? "") })
    }

    /// `standby` has what slot sync needs (written by clone, follow or rejoin) and holds the slot synced from `upstream`.
    static func expectSlotSync(_ c: FailoverCluster, _ standby: String, from upstream: String) throws {
        #expect(c.query(standby, "SHOW sync_replication_slots") == "on", "\(standby)")
        #expect(c.query(standby, "SHOW hot_standby_feedback") == "on", "\(standby)")
        #expect(c.query(standby, "SHOW primary_conninfo").contains("dbname=repmgr"), "\(standby)")
        try waitFor("\(standby) holds the slot synced from \(upstream)", timeout: 120) {
            c.query(standby, "SELECT count(*) FROM pg_catalog.pg_replication_slots WHERE slot_name = '\(slot)' AND synced AND NOT temporary") == "1"
        }
    }

    /// Every row `primary` holds reaches the consumer, and the consumer read nothing `primary` lacks (what
    /// synchronized_standby_slots guarantees). Returns the rows, the changes consumed and the duplicates among them.
    static func expectNothingLost(_ c: FailoverCluster, on primary: String,
                                  consumer: (process: BackgroundProcess, values: () -> [Int64])) throws -> (rows: Set<Int64>, consumed: Int, duplicates: Int) {
        #expect(c.query(primary, "SELECT count(*) FROM pg_catalog.pg_replication_slots WHERE slot_name = '\(slot)'") == "1",
                "the slot is on the primary \(primary)")
        let rows = Set(c.query(primary, "SELECT string_agg(v::text, ',') FROM fault_writes").split(separator: ",").compactMap { Int64($0) })
        try waitFor("the consumer has every row of \(primary)", timeout: 90) { rows.isSubset(of: Set(consumer.values())) }
        let seen = consumer.values()
        let unknown = Set(seen).subtracting(rows)
        #expect(unknown.isEmpty, "the consumer read \(unknown.count) changes that \(primary) lacks")
        return (rows, seen.count, seen.count - Set(seen).count)
    }
}

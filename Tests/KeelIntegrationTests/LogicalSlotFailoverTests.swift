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

    @Test("kill -9 of the primary: pg_recvlogical resumes from the slot on the new primary, no change lost",
          .enabled(if: TestPostgres.isAtLeast(17),
                   "needs PostgreSQL 17+ binaries: set KEEL_PG_BINDIR (scripts/test runs this in its PostgreSQL 18 pass)"))
    func consumerSurvivesFailover() throws {
        let c = try FailoverCluster("slotfail", common: "logical_slot_failover=on", primarySettings: "wal_level = logical")
        let ws = c.f.workspace
        let primary = c.server("node1")
        // Clone wrote what slot sync needs on the standbys.
        for standby in ["node2", "node3"] {
            #expect(c.query(standby, "SHOW sync_replication_slots") == "on")
            #expect(c.query(standby, "SHOW hot_standby_feedback") == "on")
            #expect(c.query(standby, "SHOW primary_conninfo").contains("dbname=repmgr"))
        }
        try primary.psql(Writer.createTableSQL)
        try primary.psql("SELECT pg_catalog.pg_create_logical_replication_slot('\(Self.slot)', 'test_decoding', false, false, true)")
        try c.startDaemons()
        try waitFor("the primary's keeld sets synchronized_standby_slots", timeout: 30) {
            c.query("node1", "SHOW synchronized_standby_slots") == "repmgr_slot_2,repmgr_slot_3"
        }

        // The consumer follows whichever node accepts writes (libpq tries the hosts in turn) and, after a lost
        // connection, reconnects by itself every 5 seconds.
        let hosts = ["node1", "node2", "node3"].map { c.server($0) }
        let consumerConninfo = "host=" + hosts.map { _ in "127.0.0.1" }.joined(separator: ",") + " port="
            + hosts.map { String($0.port) }.joined(separator: ",") + " user=repmgr dbname=repmgr connect_timeout=2 target_session_attrs=read-write"
        let changes = ws.path + "/changes.txt"
        let consumer = try ws.spawn("pg_recvlogical", ["-d", consumerConninfo, "-S", Self.slot, "--start", "-f", changes,
                                                       "-F", "1", "-s", "1", "-o", "include-xids=false", "-o", "skip-empty-xacts=true"],
                                    name: "pg_recvlogical")
        defer { _ = consumer.terminate() }
        let writer = Writer(targets: Dictionary(uniqueKeysWithValues: hosts.map { ($0.name, $0.conninfo()) }))
        writer.start()
        defer { writer.stop() }
        func consumed() -> [Int64] { Self.insertedValues((try? String(contentsOfFile: changes, encoding: .utf8)) ?? "") }

        for standby in ["node2", "node3"] {
            try waitFor("\(standby) holds the synced slot", timeout: 120) {
                c.query(standby, "SELECT count(*) FROM pg_catalog.pg_replication_slots WHERE slot_name = '\(Self.slot)' AND synced AND NOT temporary") == "1"
            }
        }
        try waitFor("the consumer reads inserts", timeout: 30) { consumed().count >= 50 }

        try primary.kill()
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"], timeout: 90)
        let promoted = c.query(winner, "SELECT count(*) FROM pg_catalog.pg_replication_slots WHERE slot_name = '\(Self.slot)'")
        #expect(promoted == "1", "the slot is on the new primary \(winner)")
        let before = writer.writes.filter { $0.node == winner }.count
        try waitFor("writes acknowledged by the new primary \(winner)", timeout: 60) { writer.writes.filter { $0.node == winner }.count >= before + 100 }
        writer.stop()

        // Every change the new primary holds reaches the consumer; the consumer saw nothing the new primary lacks.
        let onPrimary = Set(c.query(winner, "SELECT string_agg(v::text, ',') FROM fault_writes").split(separator: ",").compactMap { Int64($0) })
        try waitFor("the consumer has every row of \(winner)", timeout: 90) { onPrimary.isSubset(of: Set(consumed())) }
        let seen = consumed()
        let unknown = Set(seen).subtracting(onPrimary)
        #expect(unknown.isEmpty, "the consumer read \(unknown.count) changes the new primary lacks (synchronized_standby_slots)")
        let duplicates = seen.count - Set(seen).count
        let lostPhysically = Set(writer.writes.filter { $0.node == "node1" }.map(\.value)).subtracting(onPrimary).count
        print("[logical slot failover] new primary \(winner); rows \(onPrimary.count); changes consumed \(seen.count); "
            + "duplicates \(duplicates); acknowledged on node1 but not replicated (async): \(lostPhysically)")
        let events = c.query(winner, "SELECT details FROM repmgr.events WHERE event = 'standby_promote' AND successful ORDER BY event_timestamp DESC LIMIT 1")
        #expect(events.contains("logical slots moved: \(Self.slot)"), "the promote event names the slot: \(events)")
        try waitFor("\(winner)'s keeld drops the lost primary's standby slots from synchronized_standby_slots", timeout: 30) {
            !c.query(winner, "SHOW synchronized_standby_slots").contains("repmgr_slot_\(winner.dropFirst(4))")
        }
    }
}

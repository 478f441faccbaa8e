import Foundation
import Testing
import KeelTesting

/// The repmgr deployment guide's sequence, with `keel` only: primary register, standby clone --dry-run,
/// standby clone, start, standby register, witness register, cluster show — on real PostgreSQL (15, or 18 in the second pass of scripts/test).
@Suite("Deployment guide sequence on real PostgreSQL", .serialized)
struct DeploymentGuideTests {
    @Test("primary + standby + witness built with keel, checked through pg_stat_replication, metadata, events, cluster show and node check")
    func guideSequence() throws {
        let f = try ClusterFixture("guide")
        let ws = f.workspace
        let primary = try ws.startPrimary(name: "node1")
        let witness = try ws.startPrimary(name: "witness")
        let standbyPort = try ws.freePort()
        let standbyDir = ws.dataDirectoryPath(name: "node2")
        // Every node notifies through a shell command with repmgr's placeholders (quoted by Keel).
        let notify = "event_notification_command='echo %n %e %s \"%d\" >> \(ws.path)/notify.log'"
        try f.writeConfig(id: 1, name: "node1", port: primary.port, dataDirectory: primary.dataDirectory, extra: notify)
        // A password in the conninfo (ignored by trust authentication) must never be printed.
        try f.writeConfig(id: 2, name: "node2", port: standbyPort, dataDirectory: standbyDir, extraConninfo: " password=s3cr3t-pw", extra: notify + "\nevent_notifications='standby_clone, primary_register'")
        try f.writeConfig(id: 3, name: "node3", port: witness.port, dataDirectory: witness.dataDirectory, extra: notify)

        let register = try f.keel("-f", f.config("node1"), "primary", "register")
        #expect(register.succeeded, "\(register)")

        let dryRun = try f.keel("-f", f.config("node2"), "standby", "clone", "-h", "127.0.0.1", "-p", "\(primary.port)",
                                "-U", "repmgr", "-d", "repmgr", "--dry-run")
        #expect(dryRun.succeeded, "\(dryRun)")
        #expect(dryRun.stderr.contains("pg_basebackup"))
        #expect(dryRun.stderr.contains("-X stream"))
        #expect(dryRun.stderr.contains("free walsenders"))
        #expect(!FileManager.default.fileExists(atPath: standbyDir + "/PG_VERSION"), "a dry run must not copy anything")
        #expect(try primary.psql("SELECT count(*) FROM pg_replication_slots") == "0")

        let clone = try f.keel("standby", "clone", "-f", f.config("node2"), "-h", "127.0.0.1", "-p", "\(primary.port)",
                               "-U", "repmgr", "-d", "repmgr", "--fast-checkpoint")
        #expect(clone.succeeded, "\(clone)")
        #expect(FileManager.default.fileExists(atPath: standbyDir + "/standby.signal"))
        let autoConf = try String(contentsOfFile: standbyDir + "/postgresql.auto.conf", encoding: .utf8)
        #expect(autoConf.contains("application_name=node2"))
        #expect(autoConf.contains("primary_slot_name = 'repmgr_slot_2'"))
        #expect(autoConf.contains("port=\(primary.port)"))

        let standby = try f.startClone(name: "node2", port: standbyPort)
        let standbyRegister = try f.keel("-f", f.config("node2"), "standby", "register")
        #expect(standbyRegister.succeeded, "\(standbyRegister)")

        let witnessRegister = try f.keel("-f", f.config("node3"), "witness", "register", "-h", "127.0.0.1", "-p", "\(primary.port)")
        #expect(witnessRegister.succeeded, "\(witnessRegister)")

        // Replication: node2 streams from node1 through its slot.
        try waitFor("node2 streaming from node1", timeout: 30) {
            try primary.psql("SELECT state FROM pg_stat_replication WHERE application_name = 'node2'") == "streaming"
        }
        #expect(try primary.psql("SELECT active FROM pg_replication_slots WHERE slot_name = 'repmgr_slot_2'") == "t")

        // Metadata on the primary, replicated to the standby, copied to the witness.
        let expectedNodes = "1|primary||repmgr_slot_1|t\n2|standby|1|repmgr_slot_2|t\n3|witness|1||t"
        let nodesQuery = "SELECT node_id, type, upstream_node_id, slot_name, active FROM repmgr.nodes ORDER BY node_id"
        #expect(try primary.psql(nodesQuery) == expectedNodes)
        try waitFor("metadata replicated to node2") { try standby.psql(nodesQuery) == expectedNodes }
        #expect(try witness.psql(nodesQuery) == expectedNodes)
        #expect(try primary.psql("SELECT config_file FROM repmgr.nodes WHERE node_id = 2") == f.config("node2"))
        #expect(try primary.psql("SELECT node_name FROM repmgr.show_nodes WHERE upstream_node_name = 'node1' ORDER BY 1") == "node2\nnode3")

        // Events, with repmgr's names.
        let events = try primary.psql("SELECT node_id || ':' || event || ':' || successful::int FROM repmgr.events ORDER BY event_timestamp, event")
        #expect(events.split(separator: "\n").map(String.init) == [
            "1:cluster_created:1", "1:primary_register:1", "2:standby_clone:1", "2:standby_register:1", "3:witness_register:1",
        ])
        #expect(try !primary.psql("SELECT string_agg(details, ' ') FROM repmgr.events").contains("s3cr3t-pw"))
        // The notification command ran once per event; node2's event_notifications filter leaves out standby_register.
        let notified = try String(contentsOfFile: ws.path + "/notify.log", encoding: .utf8)
        #expect(notified.split(separator: "\n").map(String.init) == [
            "1 cluster_created 1 ", "1 primary_register 1 ",
            "2 standby_clone 1 cloned from host \"127.0.0.1\", port \(primary.port); backup method: pg_basebackup; --force: N",
            "3 witness_register 1 witness registration succeeded; upstream node ID is 1",
        ])

        // cluster show, three formats.
        let show = try f.keel("-f", f.config("node2"), "cluster", "show")
        #expect(show.succeeded, "\(show)")
        let lines = show.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.contains("ID | Name  | Role    | Status    | Upstream | Location  | Priority | Timeline | Connection string") == true)
        #expect(lines.contains { $0.hasPrefix(" 1  | node1 | primary | * running |          | location1 | 100      | 1        |") })
        #expect(lines.contains { $0.hasPrefix(" 2  | node2 | standby |   running | node1    | location1 | 100      | 1        |") })
        #expect(lines.contains { $0.hasPrefix(" 3  | node3 | witness | * running | node1    | location1 |") })
        #expect(!show.combinedOutput.contains("s3cr3t-pw"))
        #expect(show.stdout.contains("password=..."))

        let csv = try f.keel("cluster", "show", "--csv", "-f", f.config("node1"))
        #expect(csv.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1,0,0\n2,0,1\n3,0,0")

        let json = try f.keel("cluster", "show", "--json", "-f", f.config("node3"))
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(entries.map { $0["role"] as? String } == ["primary", "standby", "witness"])
        #expect(entries.map { $0["status"] as? String } == ["running", "running", "running"])
        #expect(entries.map { $0["is_primary"] as? Bool } == [true, false, false])
        #expect(entries.first?["upstream"] is NSNull)
        #expect(entries.map { $0["timeline"] as? Int } == [1, 1, 1])

        // node check: all checks OK on the standby and the primary; Nagios format for a single check.
        let check = try f.keel("-f", f.config("node2"), "node", "check")
        #expect(check.succeeded, "\(check)")
        #expect(check.stdout.contains("Server role: OK (node is standby)"))
        #expect(check.stdout.contains("Upstream connection: OK"))
        let role = try f.keel("-f", f.config("node1"), "node", "check", "--role", "--nagios")
        #expect(role.status == 0)
        #expect(role.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "REPMGR_SERVER_ROLE OK: node is primary")
        let downstream = try f.keel("-f", f.config("node1"), "node", "check", "--downstream", "--nagios")
        #expect(downstream.stdout.contains("REPMGR_DOWNSTREAM_SERVERS OK: 1 of 1 downstream nodes attached"))
        let status = try f.keel("-f", f.config("node2"), "node", "status")
        #expect(status.succeeded, "\(status)")
        #expect(status.stdout.contains("Role: standby"))

        // cluster event, filtered.
        let event = try f.keel("-f", f.config("node1"), "cluster", "event", "--event", "standby_register", "--csv")
        #expect(event.stdout.hasPrefix("2,node2,standby_register,t,"))

        // With the standby stopped, cluster show reports it unreachable and exits 25; node check sees it missing.
        try standby.stop()
        let degraded = try f.keel("-f", f.config("node1"), "cluster", "show")
        #expect(degraded.status == 25)
        #expect(degraded.stdout.contains("? unreachable"))
        let missing = try f.keel("-f", f.config("node1"), "node", "check", "--downstream")
        #expect(missing.status == 2)
        #expect(missing.stdout.contains("CRITICAL"))
    }
}

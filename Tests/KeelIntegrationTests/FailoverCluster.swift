import Foundation
import Testing
import KeelTesting

/// A running cluster for failover tests: primary `node1`, standbys `node2`…, optionally a witness, built
/// with keel, each node with a keeld. Short detection window: `monitor_interval_secs=1`,
/// `reconnect_attempts=2`, `reconnect_interval=1`. The guide's `service_*_command`s (PostgreSQL 11's
/// pg_ctl) are blanked: keeld's own restarts (a fence) use pg_ctl from `pg_bindir`.
final class FailoverCluster {
    let f: ClusterFixture
    var servers: [String: PostgresServer] = [:]
    var daemons: [String: BackgroundProcess] = [:]
    let names: [String]
    let witnessName: String?

    /// Per-node configuration lines added after the guide's (e.g. `["node2": "priority=0"]`), and lines for every node;
    /// `extraConninfo` is appended to every node's conninfo (e.g. `" password=…"`); `primarySettings` are
    /// postgresql.conf lines for the primary (restarted with them before the standbys are cloned, which copy them).
    init(_ name: String, standbys: Int = 2, witness: Bool = true, locations: [String: String] = [:],
         extra: [String: String] = [:], common: String = "", extraConninfo: String = "", primarySettings: String = "") throws {
        f = try ClusterFixture(name)
        let ws = f.workspace
        names = ["node1"] + (0..<standbys).map { "node\($0 + 2)" }
        witnessName = witness ? "witness" : nil
        let base = """
            failover=automatic
            promote_command=''
            follow_command=''
            monitor_interval_secs=1
            reconnect_attempts=2
            reconnect_interval=1
            election_rerun_interval=2
            primary_notification_timeout=20
            witness_sync_interval=1
            log_status_interval=0
            log_level=DEBUG
            service_start_command=''
            service_stop_command=''
            service_restart_command=''
            service_reload_command=''
            service_promote_command=''
            \(common)
            """
        let primary = try ws.startPrimary(name: "node1")
        servers["node1"] = primary
        if !primarySettings.isEmpty {
            try primary.appendConfiguration(primarySettings)
            try primary.stop()
            try primary.start()
        }
        try f.writeConfig(id: 1, name: "node1", port: primary.port, dataDirectory: primary.dataDirectory, extraConninfo: extraConninfo,
                          location: locations["node1"] ?? "dc1", extra: base + "\n" + (extra["node1"] ?? ""))
        try f.keel("-f", f.config("node1"), "primary", "register").requireSuccess()
        for (i, standby) in names.dropFirst().enumerated() {
            let port = try ws.freePort()
            try f.writeConfig(id: i + 2, name: standby, port: port, dataDirectory: ws.dataDirectoryPath(name: standby), extraConninfo: extraConninfo,
                              location: locations[standby] ?? "dc1", extra: base + "\n" + (extra[standby] ?? ""))
            try f.keel("-f", f.config(standby), "standby", "clone", "-h", "127.0.0.1", "-p", "\(primary.port)", "-c").requireSuccess()
            servers[standby] = try f.startClone(name: standby, port: port)
            try f.keel("-f", f.config(standby), "standby", "register").requireSuccess()
        }
        if let witnessName {
            let w = try ws.startPrimary(name: witnessName)
            servers[witnessName] = w
            try f.writeConfig(id: 99, name: witnessName, port: w.port, dataDirectory: w.dataDirectory, extraConninfo: extraConninfo,
                              location: locations[witnessName] ?? "dc1", extra: base + "\n" + (extra[witnessName] ?? ""))
            try f.keel("-f", f.config(witnessName), "witness", "register", "-h", "127.0.0.1", "-p", "\(primary.port)").requireSuccess()
        }
        for standby in names.dropFirst() {
            try waitFor("\(standby) streaming") {
                try primary.psql("SELECT count(*) FROM pg_stat_replication WHERE application_name = '\(standby)' AND state = 'streaming'") == "1"
            }
        }
    }

    var all: [String] { names + (witnessName.map { [$0] } ?? []) }

    /// Starts keeld for `name` in the foreground (the workspace stops it at the end).
    func startDaemon(_ name: String) throws {
        daemons[name] = try f.workspace.spawn("keeld", ["-f", f.config(name)], name: "keeld-\(name)")
    }

    func startDaemons() throws {
        for name in all { try startDaemon(name) }
        for name in all {
            try waitFor("keeld on \(name) monitoring", timeout: 30) { self.log(name).contains("monitoring") }
        }
    }

    /// Sends SIGTERM to `name`'s keeld; how long it took to exit, `nil` when it had not after `timeout` seconds.
    func terminateDaemon(_ name: String, timeout: Double) -> Duration? {
        let clock = ContinuousClock()
        let started = clock.now
        daemons[name]?.signal(SIGTERM)
        guard daemons[name]?.waitForExit(timeout: timeout) != nil else { return nil }
        return clock.now - started
    }

    /// keeld's log of `name`: its `log_file` (the guide's configuration sets one) and its stderr.
    func log(_ name: String) -> String {
        let file = (try? String(contentsOfFile: f.workspace.path + "/\(name)-keel.log", encoding: .utf8)) ?? ""
        return file + (daemons[name]?.output() ?? "")
    }

    func server(_ name: String) -> PostgresServer { servers[name]! }

    func isPrimary(_ name: String) -> Bool { (try? server(name).psql("SELECT NOT pg_is_in_recovery()")) == "t" }

    /// The node whose server is not in recovery, waiting for exactly one among `candidates`.
    func waitForNewPrimary(among candidates: [String], timeout: Double = 60) throws -> String {
        var winner: String?
        try waitFor("a new primary among \(candidates)", timeout: timeout) {
            let up = candidates.filter { self.isPrimary($0) }
            winner = up.count == 1 ? up[0] : nil
            return winner != nil
        }
        return winner!
    }

    /// Waits until each of `nodes` has logged `phrase` (its keeld's decision not to fail over), then
    /// checks that none of them runs as a primary.
    func expectNoPromotion(of nodes: [String], logging phrase: String) throws {
        for node in nodes {
            try waitFor("\(node) logs \"\(phrase)\"", timeout: 60) { self.log(node).contains(phrase) }
        }
        for node in nodes { #expect(!isPrimary(node), "\(node) must not be promoted") }
    }

    /// Waits until `standby` streams from `primary`.
    func waitForStreaming(_ standby: String, from primary: String, timeout: Double = 60) throws {
        try waitFor("\(standby) streaming from \(primary)", timeout: timeout) {
            (try? self.server(primary).psql("SELECT count(*) FROM pg_stat_replication WHERE application_name = '\(standby)' AND state = 'streaming'")) == "1"
        }
    }

    /// `SELECT` on `name`, empty on error.
    func query(_ name: String, _ sql: String) -> String { (try? server(name).psql(sql)) ?? "" }
}

import Foundation
import Testing
import KeelTesting
#if canImport(Glibc)
import Glibc
#endif

/// Failure scenarios taken from public repmgr bug reports, on real PostgreSQL (15, or 18 in the second pass of scripts/test): parsing a hand-edited
/// repmgr.conf (`--dump-config`), a standby in `catchup`, and a witness that must follow the primary of
/// the moment through a switchover and a failover.
@Suite("failure cases: configuration, catchup, witness", .serialized)
struct FailureCaseTests {
    /// Trailing comments, spaces around `=`, a `#` inside quotes, a whitespace-only line, an indented comment.
    static let handEdited = """
        failover=manual    # one of 'automatic', 'manual'
        priority = 100 #c
        promote_command='/bin/echo a#b' # trailing
          \t  
           # indented comment
        log_level='INFO'

        """

    /// Writes `file`: node1 with a conninfo on a free port (nothing listens there), then `extra` lines.
    static func nodeConfig(_ f: ClusterFixture, _ file: String, conninfo extra: String = "", lines: String = "") throws -> String {
        try f.workspace.writeFile(file, """
            node_id=1
            node_name='node1'
            conninfo='host=127.0.0.1 port=\(try f.workspace.freePort()) user=repmgr dbname=repmgr connect_timeout=1\(extra)'
            data_directory='\(f.workspace.path)/data/node1'
            \(lines)

            """)
    }

    @Test("--dump-config prints the parsed settings of a hand-edited file: no diagnostics, '#' kept inside quotes, password masked")
    func dumpConfig() throws {
        let f = try ClusterFixture("dumpconfig")
        let conf = try Self.nodeConfig(f, "hand.conf", conninfo: " password=s3cr3t-pw", lines: Self.handEdited)
        let dump = try f.keel("-f", conf, "--dump-config")
        #expect(dump.status == 0, "\(dump)")
        #expect(dump.stderr.isEmpty, "no warning or error: \(dump.stderr)")
        let lines = Set(dump.stdout.split(separator: "\n").map(String.init))
        for line in ["failover|manual", "priority|100", "promote_command|/bin/echo a#b", "log_level|INFO", "node_name|node1",
                     "reconnect_attempts|6"] {
            #expect(lines.contains(line), "missing \(line)")
        }
        #expect(!dump.combinedOutput.contains("s3cr3t-pw"))
        #expect(lines.contains { $0.hasPrefix("conninfo|host=127.0.0.1 port=") && $0.hasSuffix("connect_timeout=1 password=...") })

        let bad = try f.workspace.writeFile("bad.conf", "node_id=1\nnode_name='n'\nconninfo='host=x'\ndata_directory='/x'\npriority=10s\n")
        let refused = try f.keel("-f", bad, "--dump-config")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("bad.conf:5: key \"priority\": invalid value \"10s\""), "\(refused.stderr)")
        #expect(refused.stdout.isEmpty)
    }

    @Test("--log-to-file: the final ERROR goes to log_file, not to stderr")
    func finalErrorToLogFile() throws {
        let f = try ClusterFixture("logtofile")
        let log = f.workspace.path + "/keel.log"
        let conf = try Self.nodeConfig(f, "down.conf", lines: "log_file='\(log)'")
        let run = try f.keel("-f", conf, "--log-to-file", "cluster", "show")
        #expect(run.status == 6)
        #expect(!run.stderr.contains("ERROR"), "\(run.stderr)")
        #expect(try String(contentsOfFile: log, encoding: .utf8).contains("[ERROR] unable to connect to local node \"node1\" (ID: 1)"))
    }

    @Test("every repmgr command accepts every repmgr global option: used where it applies, else a warning naming it")
    func repmgrGlobalOptions() throws {
        let f = try ClusterFixture("globals")
        let conf = try Self.nodeConfig(f, "down.conf")
        let globals = ["-R", "postgres", "-S", "postgres", "-C", conf, "-D", f.workspace.path + "/data/node1", "--node-id=1",
                       "--node-name=node1", "--nagios", "--optformat", "--detail", "--wait=1", "-W", "--wait-start=1", "--wait-sync=1",
                       "--csv", "--compact", "-t", "--dry-run", "-F", "-L", "ERROR"]
        let commands = ["primary register", "primary unregister", "standby clone", "standby register", "standby unregister",
                        "standby promote", "standby follow", "standby switchover", "witness register", "witness unregister",
                        "node status", "node check", "node rejoin", "cluster show", "cluster matrix", "cluster crosscheck",
                        "cluster event", "cluster cleanup", "service status", "service pause", "service unpause",
                        "daemon status", "daemon start", "daemon stop"]
        for command in commands {
            let run = try f.workspace.run("keel", ["-f", conf] + command.split(separator: " ").map(String.init) + globals, timeout: 60)
            #expect(!run.stderr.lowercased().contains("unknown option"), "\(command): \(run.stderr)")
            #expect(!run.stderr.contains("Unexpected argument"), "\(command): \(run.stderr)")
            #expect(!run.stderr.contains("does not take any value"), "\(command): \(run.stderr)")
        }
        let shown = try f.workspace.run("keel", ["-f", conf, "cluster", "show", "--node-id", "1", "-R", "postgres"])
        #expect(shown.stderr.contains("WARNING: \"--node-id=1\", \"-R postgres\" have no effect on \"keel cluster show\" and are ignored"),
                "\(shown.stderr)")
    }

    /// SIGSTOPs `pid` for the duration of `body`, SIGCONT afterwards whatever happens.
    static func frozen<T>(_ pid: Int32, _ body: () throws -> T) throws -> T {
        guard kill(pid, SIGSTOP) == 0 else { throw HarnessError.setupFailed("kill -STOP \(pid): errno \(errno)") }
        defer { kill(pid, SIGCONT) }
        return try body()
    }

    /// Stops the standby, writes WAL on the primary (kept by the standby's slot), starts the standby and
    /// returns the pid of its walsender the moment `pg_stat_replication` shows it in `catchup`.
    static func catchupWalsender(_ c: FailoverCluster) throws -> Int32? {
        let primary = c.server("node1")
        for attempt in 1...3 {
            try c.server("node2").stop(mode: "fast")
            _ = try primary.psql("CREATE TABLE big\(attempt) AS SELECT g, repeat('x', 400) AS pad FROM generate_series(1, 500000) g")
            try c.server("node2").start()
            var pid: Int32?
            try waitFor("node2 in catchup or streaming", timeout: 60, interval: 0.01) {
                let row = try primary.psql("SELECT pid || ' ' || state FROM pg_stat_replication WHERE application_name = 'node2'")
                if row.hasSuffix(" catchup") { pid = Int32(row.split(separator: " ")[0]) }
                return row.hasSuffix(" catchup") || row.hasSuffix(" streaming")
            }
            if let pid { return pid }
        }
        return nil
    }

    @Test("node check during catchup: attached, WARNING naming the state (not CRITICAL); cluster show agrees; OK once streaming")
    func nodeCheckCatchup() throws {
        let c = try FailoverCluster("catchup", standbys: 1, witness: false)
        let f = c.f
        let pid = try #require(try Self.catchupWalsender(c), "node2 was never seen in catchup")
        try Self.frozen(pid) {
            #expect(c.query("node1", "SELECT state FROM pg_stat_replication WHERE application_name = 'node2'") == "catchup")
            let all = try f.keel("-f", f.config("node2"), "node", "check")
            #expect(all.stdout.contains("Upstream connection: WARNING (node is attached to its upstream node \"node1\" in state \"catchup\")"),
                    "\(all.stdout)")
            #expect(all.stdout.contains("Replication lag:"))
            let upstream = try f.keel("-f", f.config("node2"), "node", "check", "--upstream")
            #expect(upstream.status == 1, "WARNING, not CRITICAL: \(upstream)")
            let show = try f.keel("-f", f.config("node2"), "cluster", "show")
            #expect(show.status == 0, "\(show)")
            #expect(show.stdout.contains("|   running | node1"), "\(show.stdout)")
            #expect(show.stderr.contains("node \"node2\" (ID: 2) is attached to its upstream node \"node1\" in state \"catchup\""))
            #expect(!show.combinedOutput.contains("not attached"))
        }
        try c.waitForStreaming("node2", from: "node1")
        let after = try f.keel("-f", f.config("node2"), "node", "check", "--upstream")
        #expect(after.status == 0, "\(after)")
        for check in ["--data-directory-config", "--db-connection", "--replication-config-owner"] {
            let one = try f.keel("-f", f.config("node2"), "node", "check", check)
            #expect(one.status == 0, "\(check): \(one)")
        }
        let keeld = try f.keel("-f", f.config("node2"), "node", "check", "--repmgrd", "--nagios")
        #expect(keeld.status == 2)
        #expect(keeld.stdout.contains("REPMGRD CRITICAL: keeld is not running"), "\(keeld.stdout)")

        // -h/-d name the node: no configuration file is needed for the listings.
        let port = String(c.server("node1").port)
        let remote = try f.workspace.run("keel", ["cluster", "show", "-h", "127.0.0.1", "-p", port, "-U", "repmgr", "-d", "repmgr"],
                                         currentDirectory: f.workspace.logDirectory)
        #expect(remote.status == 0, "\(remote)")
        #expect(remote.stdout.contains("node2"))
        let events = try f.workspace.run("keel", ["cluster", "event", "-h", "127.0.0.1", "-p", port, "-U", "repmgr", "-d", "repmgr"],
                                         currentDirectory: f.workspace.logDirectory)
        #expect(events.status == 0, "\(events)")
        #expect(events.stdout.contains("standby_register"))
    }

    /// The witness's upstream in the primary's metadata and in the witness's own copy.
    static func witnessUpstream(_ c: FailoverCluster, on node: String) -> String {
        c.query(node, "SELECT upstream_node_id FROM repmgr.nodes WHERE node_id = 99")
    }

    @Test("the witness's keeld follows the primary at once through a switchover and a failover (not after witness_sync_interval)")
    func witnessFollowsPrimary() throws {
        let c = try FailoverCluster("witnessfollows", standbys: 1, witness: true, extra: ["witness": "witness_sync_interval=600"],
                                    common: TopologyTests.pgCtl)
        let f = c.f
        try c.startDaemons()
        try waitFor("witness monitors node1", timeout: 30) {
            c.log("witness").contains("witness monitoring connection to primary node \"node1\" (ID: 1)")
        }
        // A switchover without --siblings-follow: only the witness's keeld can move its upstream.
        let sw = try f.keel("-f", f.config("node2"), "standby", "switchover")
        #expect(sw.succeeded, "\(sw)")
        try waitFor("witness monitors node2", timeout: 30) {
            c.log("witness").contains("witness monitoring connection to primary node \"node2\" (ID: 2)")
        }
        try waitFor("witness upstream is node2 on node2 and in the witness's copy", timeout: 30) {
            Self.witnessUpstream(c, on: "node2") == "2" && Self.witnessUpstream(c, on: "witness") == "2"
        }
        // Failover back to node1.
        try c.waitForStreaming("node1", from: "node2")
        try c.server("node2").kill()
        #expect(try c.waitForNewPrimary(among: ["node1"]) == "node1")
        try waitFor("witness monitors node1 again", timeout: 30) {
            c.log("witness").components(separatedBy: "witness monitoring connection to primary node \"node1\" (ID: 1)").count == 3
        }
        try waitFor("witness upstream is node1 on node1 and in the witness's copy", timeout: 30) {
            Self.witnessUpstream(c, on: "node1") == "1" && Self.witnessUpstream(c, on: "witness") == "1"
        }
        let show = try f.keel("-f", f.config("witness"), "cluster", "show", "--json")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [[String: Any]])
        #expect(entries.first { $0["name"] as? String == "witness" }?["upstream"] as? String == "node1")
    }
}

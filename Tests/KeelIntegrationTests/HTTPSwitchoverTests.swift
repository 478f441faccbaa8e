import Foundation
import Testing
import KeelTesting

/// `remote_transport = http` on real PostgreSQL 15: `standby switchover --siblings-follow` whose remote
/// actions (the old primary's stop and rejoin, the sibling's follow) go to the nodes' keeld; ssh and the
/// local `keel` path are traps (`repmgr_bindir` and `PATH` hold an `ssh` and a `keel` that record their
/// use and fail), so the switchover can only succeed through HTTP. A wrong token is refused (401) by the
/// primary's keeld and changes nothing; so are control requests with no or a wrong token. The health
/// routes' kept connections survive a restart of the local server.
@Suite("remote_transport = http: switchover through keeld's HTTP API", .serialized)
struct HTTPSwitchoverTests {
    static let token = "cluster-wide-token-for-http-switchover"

    /// node1 primary, node2 and node3 standbys, each keeld serving HTTP with the token; every node's keel
    /// set to `remote_transport = http`, `remote_http_port` listing the ports, `repmgr_bindir` the trap.
    static func cluster() throws -> (FailoverCluster, [String: Int], trap: String) {
        let workspace = try TestWorkspace(name: "httpsw-ports")
        defer { workspace.close() }
        let names = ["node1", "node2", "node3"]
        var ports: [String: Int] = [:]
        for node in names { ports[node] = try workspace.freePort() }
        let portList = names.enumerated().map { "\($0.offset + 1):\(ports[$0.element]!)" }.joined(separator: ",")
        var extra: [String: String] = [:]
        for node in names { extra[node] = "http_listen='127.0.0.1:\(ports[node]!)'" }
        let c = try FailoverCluster("httpsw", standbys: 2, witness: false, extra: extra, common: TopologyTests.pgCtl)
        let ws = c.f.workspace
        let marker = ws.path + "/trap-used"
        let trapScript = "#!/bin/sh\necho \"$0 $*\" >> \(marker)\nexit 99\n"
        let trap = ws.path + "/trap"
        _ = try ws.writeFile("trap/ssh", trapScript, mode: 0o755)
        _ = try ws.writeFile("trap/keel", trapScript, mode: 0o755)
        let tokenFile = try ws.writeFile("http.token", token + "\n", mode: 0o600)
        _ = try ws.writeFile("wrong.token", "not-the-token\n", mode: 0o600)
        for node in names {
            let config = try String(contentsOfFile: c.f.config(node), encoding: .utf8)
            try ws.writeFile("\(node).conf", config + """
                http_token_file='\(tokenFile)'
                remote_transport=http
                remote_http_port='\(portList)'
                repmgr_bindir='\(trap)'
                ssh_options='-o ProxyCommand=\(trap)/ssh'

                """)
        }
        return (c, ports, trap)
    }

    @Test("switchover --siblings-follow over HTTP with ssh unusable: roles swap, the sibling follows, keeld ran the stop, rejoin and follow; a wrong token is refused (401) and changes nothing")
    func switchoverOverHTTP() throws {
        let (c, ports, trap) = try Self.cluster()
        let f = c.f
        try c.startDaemons()
        for node in ["node1", "node2", "node3"] {
            try waitFor("keeld HTTP of \(node) up", timeout: 30) { HTTPAPITests.status(ports[node]!, "/liveness") == 200 }
        }
        _ = try c.server("node1").psql("CREATE TABLE hs (id int PRIMARY KEY); INSERT INTO hs VALUES (1)")
        try TopologyTests.waitCaughtUp(c, "node1", ["node2", "node3"])
        let environment = ["PATH": trap + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]

        // The health routes keep their connections open; after a restart of the local server the first
        // request still answers right (the broken kept connection is replaced at once).
        let p3 = ports["node3"]!
        #expect(HTTPAPITests.status(p3, "/health") == 200)
        try c.server("node3").stop(mode: "fast")
        try c.server("node3").start()
        #expect(HTTPAPITests.status(p3, "/health") == 200, "first request after the restart")
        try c.waitForStreaming("node3", from: "node1")

        try Self.checkRefusals(c, port: ports["node1"]!, environment: environment)

        // --dry-run shows the requests (and asks node1's keeld which stop command it would run).
        let dry = try f.workspace.run("keel", ["-f", f.config("node2"), "standby", "switchover", "--siblings-follow", "--dry-run"],
                                      environment: environment, timeout: 120)
        #expect(dry.succeeded, "\(dry)")
        let p1 = ports["node1"]!
        for line in ["would stop node \"node1\" (ID: 1) with: POST http://127.0.0.1:\(p1)/service/stop {\"checkpoint\":true}",
                     "which runs on that node: ", "POST http://127.0.0.1:\(p1)/rejoin {\"conninfo\":",
                     "follow with: POST http://127.0.0.1:\(p3)/follow {\"upstream_node_id\":2}"] {
            #expect(dry.stderr.contains(line), "missing: \(line)")
        }
        #expect(c.isPrimary("node1") && !c.isPrimary("node2"))

        let sw = try f.workspace.run("keel", ["-f", f.config("node2"), "standby", "switchover", "--siblings-follow"],
                                     environment: environment, timeout: 240)
        #expect(sw.succeeded, "\(sw)")
        #expect(sw.stderr.contains("STANDBY SWITCHOVER has completed successfully"))
        #expect(!FileManager.default.fileExists(atPath: f.workspace.path + "/trap-used"), "ssh or a local keel was run")
        #expect(c.isPrimary("node2") && !c.isPrimary("node1") && !c.isPrimary("node3"))
        try c.waitForStreaming("node1", from: "node2")
        try c.waitForStreaming("node3", from: "node2")
        #expect(c.query("node2", TopologyTests.nodesQuery) == "1:standby:2:true\n2:primary:-:true\n3:standby:2:true")
        let node1Log = c.log("node1")
        for route in ["POST /service/stop", "POST /rejoin"] {
            #expect(node1Log.contains("HTTP control request \(route): running keel"), "node1's keeld ran \(route)")
        }
        #expect(c.log("node3").contains("HTTP control request POST /follow: running keel standby follow --upstream-node-id 2"))
        #expect(!node1Log.contains("password"), "no password in keeld's log")
        _ = try c.server("node2").psql("INSERT INTO hs VALUES (2)")
        for node in ["node1", "node3"] {
            try waitFor("row 2 on \(node)") { c.query(node, "SELECT count(*) FROM hs") == "2" }
        }

        // cluster matrix over HTTP: every node reaches every other one (node2 asks node1's and node3's keeld).
        let matrix = try f.workspace.run("keel", ["-f", f.config("node2"), "cluster", "matrix", "--csv"], environment: environment)
        #expect(matrix.succeeded, "\(matrix)")
        #expect(matrix.stdout.split(separator: "\n").count == 9 && !matrix.stdout.contains(",-"), "\(matrix.stdout)")
        // cluster crosscheck over HTTP: node1's and node3's keeld give their matrix (GET /cluster/matrix).
        let crosscheck = try f.workspace.run("keel", ["-f", f.config("node2"), "cluster", "crosscheck", "--csv"], environment: environment)
        #expect(crosscheck.succeeded, "\(crosscheck)")
        #expect(crosscheck.stdout.split(separator: "\n").count == 9 && !crosscheck.stdout.contains(",-"), "\(crosscheck.stdout)")
        #expect(c.log("node1").contains("GET /cluster/matrix") == false, "a read with the right token is not logged as refused")
        #expect(!FileManager.default.fileExists(atPath: f.workspace.path + "/trap-used"))
    }

    /// Control requests with no or a wrong token get 401; a switchover whose token file holds another token
    /// is refused by the primary's keeld and changes nothing (node1 still primary, nothing paused).
    static func checkRefusals(_ c: FailoverCluster, port: Int, environment: [String: String]) throws {
        let f = c.f
        let rejoin = "{\"conninfo\": \"host=127.0.0.1 port=1\"}"
        #expect(try HTTPClient.request(port: port, "POST", "/rejoin", body: rejoin).status == 401)
        #expect(try HTTPClient.request(port: port, "POST", "/rejoin", token: "wrong", body: rejoin).status == 401)
        #expect(try HTTPClient.request(port: port, "GET", "/node/shutdown-state").status == 401)
        let bad = try HTTPClient.request(port: port, "POST", "/rejoin", token: token, body: "{\"force_rewnd\": true}")
        #expect(bad.status == 400 && bad.body.contains("unknown field"), "\(bad.body)")

        let config = try String(contentsOfFile: f.config("node2"), encoding: .utf8)
            .replacingOccurrences(of: f.workspace.path + "/http.token", with: f.workspace.path + "/wrong.token")
        let wrongConfig = try f.workspace.writeFile("node2-wrong.conf", config)
        let refused = try f.workspace.run("keel", ["-f", wrongConfig, "standby", "switchover", "--siblings-follow"],
                                          environment: environment, timeout: 120)
        #expect(!refused.succeeded)
        #expect(refused.stderr.contains("missing or wrong bearer token (401)"), "\(refused.stderr)")
        #expect(c.isPrimary("node1") && !c.isPrimary("node2"))
        #expect(c.query("node1", "SELECT count(*) FROM repmgr.keel_daemon WHERE paused") == "0")
        #expect(c.query("node1", "SELECT count(*) FROM repmgr.events WHERE event = 'standby_switchover'") == "0")
        #expect(c.log("node1").contains("refused: missing or wrong bearer token"))
    }
}

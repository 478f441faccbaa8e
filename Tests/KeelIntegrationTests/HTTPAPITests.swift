import Foundation
import Testing
import KeelTesting

/// keeld's HTTP API on real PostgreSQL (15, or 18 in the second pass of scripts/test), on loopback: the health routes on the primary and a standby,
/// while the primary's server is down and after the failover; `/cluster`; the control routes with a
/// missing, wrong and right token; a token file readable by others; `http_listen` changed by SIGHUP;
/// a stop within 2 s with the server on.
@Suite("keeld HTTP API on real PostgreSQL", .serialized)
struct HTTPAPITests {
    static let token = "s3cret-token-for-tests"

    /// A cluster whose keelds serve HTTP on free ports; node1 and node2 have a token file with `tokenMode`.
    static func cluster(_ name: String, standbys: Int, witness: Bool, tokenMode: Int = 0o600) throws -> (FailoverCluster, [String: Int]) {
        let workspace = try TestWorkspace(name: name + "-ports")
        defer { workspace.close() }
        var ports: [String: Int] = [:]
        var extra: [String: String] = [:]
        let names = ["node1"] + (0..<standbys).map { "node\($0 + 2)" } + (witness ? ["witness"] : [])
        for node in names {
            ports[node] = try workspace.freePort()
            extra[node] = "http_listen='127.0.0.1:\(ports[node]!)'\nevent_notification_command='/bin/true %e'"
        }
        // Empty service commands: `keel node service` uses pg_ctl from pg_bindir (the guide's name PostgreSQL 11's).
        let c = try FailoverCluster(name, standbys: standbys, witness: witness, extra: extra)
        for node in names where node != "witness" {
            let tokenFile = try c.f.workspace.writeFile("\(node)-http.token", token + "\n", mode: tokenMode)
            try c.f.workspace.writeFile("\(node).conf", try String(contentsOfFile: c.f.config(node), encoding: .utf8)
                                        + "http_token_file='\(tokenFile)'\n")
        }
        return (c, ports)
    }

    static func get(_ port: Int, _ path: String) -> HTTPClient.Reply? { try? HTTPClient.request(port: port, "GET", path) }

    static func status(_ port: Int, _ path: String) -> Int { get(port, path)?.status ?? 0 }

    @Test("health routes answer right on the primary and the standby, while the primary's PostgreSQL is down, and after the failover; /cluster; control routes need the token")
    func healthRoutesAcrossFailover() throws {
        let (c, ports) = try Self.cluster("http", standbys: 1, witness: true)
        try c.startDaemons()
        let p1 = ports["node1"]!, p2 = ports["node2"]!
        try waitFor("keeld HTTP up and loops running", timeout: 30) {
            Self.status(p1, "/liveness") == 200 && Self.status(p2, "/liveness") == 200
        }
        for (path, want) in [("/primary", 200), ("/replica", 503), ("/read-only", 200), ("/health", 200), ("/readiness", 200)] {
            #expect(Self.status(p1, path) == want, "node1 \(path)")
        }
        try waitFor("node2 streaming as seen by /replica") { Self.status(p2, "/replica") == 200 }
        for (path, want) in [("/primary", 503), ("/replica?lag=16MB", 200), ("/replica?lag=1GB", 200), ("/read-only", 200),
                             ("/health", 200), ("/readiness", 200), ("/replica?lag=lots", 400)] {
            #expect(Self.status(p2, path) == want, "node2 \(path)")
        }
        let primaryBody = Self.get(p1, "/primary")?.body ?? ""
        #expect(primaryBody.contains("\"role\" : \"primary\"") && primaryBody.contains("\"fenced\" : false"), "\(primaryBody)")
        #expect(Self.get(p2, "/primary")?.body.contains("in recovery") == true)
        let cluster = Self.get(p2, "/cluster")
        #expect(cluster?.status == 200 && cluster?.body.contains("\"name\" : \"node1\"") == true, "\(cluster?.body ?? "no answer")")
        #expect(Self.status(p1, "/nonexistent") == 404)

        try Self.checkControlRoutes(c, port: p1)
        try Self.checkServiceRoutes(c, port: p2)
        let before = try PrometheusText.parse(try #require(Self.get(p2, "/metrics")).body)
        #expect(before["keel_failovers_total"] == 0 && before["keel_role_info{role=\"standby\"}"] == 1, "\(before)")
        #expect((before["keel_resident_memory_bytes"] ?? 0) > 1_000_000)
        #expect(before["keel_fenced_bool"] == 0 && before["keel_timeline_id"] == 1)

        try c.server("node1").kill()
        let clock = ContinuousClock()
        let asked = clock.now
        let down = Self.get(p1, "/primary")
        #expect(clock.now - asked < .milliseconds(1500), "a request never waits much longer than a second")
        #expect(down?.status == 503 && down?.body.contains("\"role\" : \"unknown\"") == true, "\(down?.body ?? "no answer")")
        #expect(Self.status(p1, "/health") == 503)
        #expect(Self.status(p1, "/liveness") == 200, "keeld's loop goes on while its server is down")
        #expect(try c.waitForNewPrimary(among: ["node2"]) == "node2")
        try waitFor("node2 /primary after the failover", timeout: 10) { Self.status(p2, "/primary") == 200 }
        #expect(Self.status(p2, "/replica") == 503)
        #expect(Self.status(p1, "/primary") == 503)
        var after: [String: Double] = [:]
        try waitFor("the failover counted (its event is recorded after the promotion)", timeout: 10) {
            after = try PrometheusText.parse(try #require(Self.get(p2, "/metrics")).body)
            return after["keel_failovers_total"] == 1
        }
        #expect(after["keel_failovers_total"] == 1 && after["keel_failover_elections_total{outcome=\"promoted\"}"] == 1, "\(after)")
        #expect(after["keel_role_info{role=\"primary\"}"] == 1 && after["keel_timeline_id"] == 2)
        #expect((after["keel_last_failover_timestamp_seconds"] ?? 0) > Date().timeIntervalSince1970 - 120)
        #expect((after["keel_notifications_total{state=\"queued\"}"] ?? 0) > (before["keel_notifications_total{state=\"queued\"}"] ?? 0))
        let hookCalls = "keel_hook_calls_total{point=\"event_notification_command\",result=\"ok\"}"
        try waitFor("notification hooks counted", timeout: 10) {
            let now = try PrometheusText.parse(try #require(Self.get(p2, "/metrics")).body)
            return (now[hookCalls] ?? 0) > (before[hookCalls] ?? 0)
                && now["keel_hook_duration_seconds_count{point=\"event_notification_command\"}"] == now[hookCalls]
        }
        let downMetrics = try PrometheusText.parse(try #require(Self.get(p1, "/metrics")).body)
        #expect(downMetrics["keel_postgres_up_bool"] == 0 && downMetrics["keel_role_info{role=\"unknown\"}"] == 1)
    }

    /// POST /pause and /unpause: 401 with no or a wrong token (nothing paused), 200 with the right one.
    static func checkControlRoutes(_ c: FailoverCluster, port: Int) throws {
        let paused = { c.query("node1", "SELECT bool_and(paused) FROM repmgr.keel_daemon") }
        #expect(try HTTPClient.request(port: port, "POST", "/pause").status == 401)
        #expect(try HTTPClient.request(port: port, "POST", "/pause", token: "wrong").status == 401)
        #expect(paused() == "f", "a refused request changes nothing")
        let pause = try HTTPClient.request(port: port, "POST", "/pause", token: token)
        #expect(pause.status == 200 && pause.body.contains("\"exit_status\" : 0"), "\(pause.body)")
        #expect(paused() == "t")
        let unpause = try HTTPClient.request(port: port, "POST", "/unpause", token: token)
        #expect(unpause.status == 200, "\(unpause.body)")
        #expect(paused() == "f")
    }

    /// POST /service/stop and /service/start on the standby: its PostgreSQL stops (/health 503), starts and streams again.
    static func checkServiceRoutes(_ c: FailoverCluster, port: Int) throws {
        let stop = try HTTPClient.request(port: port, "POST", "/service/stop", token: token)
        #expect(stop.status == 200 && stop.body.contains("\"exit_status\" : 0"), "\(stop.body)")
        #expect(status(port, "/health") == 503)
        let start = try HTTPClient.request(port: port, "POST", "/service/start", token: token)
        #expect(start.status == 200, "\(start.body)")
        try waitFor("node2 streaming again after /service/start", timeout: 30) { status(port, "/replica") == 200 }
    }

    @Test("keeld tells systemd it is ready; a token file readable by others disables the control routes (404, logged); SIGHUP moves http_listen; keeld stops within 2 s with HTTP on")
    func badTokenReloadAndStop() throws {
        let (c, ports) = try Self.cluster("httpperm", standbys: 0, witness: false, tokenMode: 0o644)
        let notify = try NotifySocket(path: c.f.workspace.path + "/notify.sock")
        c.daemons["node1"] = try c.f.workspace.spawn("keeld", ["-f", c.f.config("node1")], name: "keeld-node1",
                                                      environment: ["NOTIFY_SOCKET": notify.path])
        let ready = notify.receive(timeout: 30)
        #expect(ready?.hasPrefix("READY=1\nMAINPID=") == true, "systemd readiness: \(ready ?? "nothing")")
        let port = ports["node1"]!
        try waitFor("keeld HTTP up", timeout: 30) { Self.status(port, "/primary") == 200 }
        #expect(try HTTPClient.request(port: port, "POST", "/pause", token: Self.token).status == 404)
        #expect(c.log("node1").contains("is readable or writable by group or others"))

        let moved = try c.f.workspace.freePort()
        let config = try String(contentsOfFile: c.f.config("node1"), encoding: .utf8)
            .replacingOccurrences(of: "http_listen='127.0.0.1:\(port)'", with: "http_listen='127.0.0.1:\(moved)'")
        try c.f.workspace.writeFile("node1.conf", config)
        c.daemons["node1"]?.signal(SIGHUP)
        try waitFor("HTTP API on the new port", timeout: 10) { Self.status(moved, "/primary") == 200 }
        #expect(Self.get(port, "/primary") == nil, "the old port is closed")

        let stopped = c.terminateDaemon("node1", timeout: 10)
        #expect(stopped != nil && stopped! < .seconds(2), "stopped in \(String(describing: stopped))")
    }

    @Test("a fenced node is never /primary: a primary cut off from the standby and the witness fences and answers 503, fenced")
    func fencedIsNotPrimary() throws {
        let (c, ports) = try Self.cluster("httpfence", standbys: 1, witness: true)
        try c.startDaemons()
        let port = ports["node1"]!
        try waitFor("keeld HTTP up", timeout: 30) { Self.status(port, "/primary") == 200 }
        try c.server("node2").stop(mode: "fast")
        try c.server("witness").stop(mode: "fast")
        try waitFor("node1 fenced", timeout: 30) { Self.get(port, "/primary")?.body.contains("\"fenced\" : true") == true }
        let answer = Self.get(port, "/primary")
        #expect(answer?.status == 503, "\(answer?.body ?? "no answer")")
        #expect(Self.status(port, "/readiness") == 503)
        let metrics = try PrometheusText.parse(try #require(Self.get(port, "/metrics")).body)
        #expect(metrics["keel_fenced_bool"] == 1)
    }
}

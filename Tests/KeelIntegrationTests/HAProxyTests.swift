import Foundation
import Testing
import KeelPostgres
import KeelTesting

/// Debian's HAProxy in front of three keelds (`option httpchk GET /primary`, `inter 500ms`), the
/// configuration the README shows: a client writing through HAProxy every 20 ms across a kill -9 failover
/// loses writes only while no primary answers /primary, and no write lands on a node that is not the
/// primary of the moment.
@Suite("HAProxy over keeld's /primary", .serialized)
struct HAProxyTests {
    static func config(frontend: Int, servers: [(name: String, pgPort: Int, httpPort: Int)]) -> String {
        """
        global
            maxconn 100

        defaults
            mode tcp
            timeout connect 1s
            timeout client 30s
            timeout server 30s

        listen postgres_write
            bind 127.0.0.1:\(frontend)
            option httpchk GET /primary
            http-check expect status 200
            default-server inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions
        \(servers.map { "    server \($0.name) 127.0.0.1:\($0.pgPort) check port \($0.httpPort)" }.joined(separator: "\n"))

        """
    }

    /// One write attempt through HAProxy: the port of the server that committed it, or `nil`.
    static func write(_ connection: inout Connection?, frontend: Int, value: Int) -> Int? {
        if connection == nil {
            connection = try? Connection(conninfo: "host=127.0.0.1 port=\(frontend) user=repmgr dbname=repmgr connect_timeout=1 options='-c statement_timeout=1000'")
        }
        guard let c = connection else { return nil }
        guard let row = try? c.queryRow("INSERT INTO w VALUES ($1) RETURNING inet_server_port()", [value]) else {
            connection = nil
            return nil
        }
        return row.int("inet_server_port")
    }

    @Test("writes through HAProxy across a kill -9 failover: every committed write on the primary of the moment; outage measured")
    func failoverThroughHAProxy() throws {
        guard let haproxy = ["/usr/sbin/haproxy", "/usr/bin/haproxy"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            Issue.record("haproxy is not installed (scripts/bootstrap installs it)")
            return
        }
        let (c, ports) = try HTTPAPITests.cluster("haproxy", standbys: 2, witness: false)
        try c.startDaemons()
        let frontend = try c.f.workspace.freePort()
        let nodes = ["node1", "node2", "node3"]
        let cfg = try c.f.workspace.writeFile("haproxy.cfg", Self.config(frontend: frontend, servers: nodes.map {
            ($0, c.server($0).port, ports[$0]!)
        }), mode: 0o644)
        let proxy = try c.f.workspace.spawn(haproxy, ["-db", "-f", cfg], name: "haproxy")
        defer { _ = proxy.terminate(timeout: 5) }
        _ = try c.server("node1").psql("CREATE TABLE w (v int)")
        var connection: Connection?
        try waitFor("a write through HAProxy", timeout: 20) { Self.write(&connection, frontend: frontend, value: 0) != nil }
        for standby in ["node2", "node3"] { try c.waitForStreaming(standby, from: "node1") }

        let clock = ContinuousClock()
        var landed: [(at: ContinuousClock.Instant, port: Int)] = []
        var killedAt: ContinuousClock.Instant?
        var value = 1
        let end = clock.now + .seconds(60)
        var newPrimary: String?
        var promotedSeenAt: ContinuousClock.Instant?
        while clock.now < end {
            if let port = Self.write(&connection, frontend: frontend, value: value) { landed.append((clock.now, port)) }
            value += 1
            if killedAt == nil, value == 50 {
                try c.server("node1").kill()
                killedAt = clock.now
            }
            if killedAt != nil, newPrimary == nil {
                newPrimary = nodes.dropFirst().first { c.isPrimary($0) }
                if newPrimary != nil { promotedSeenAt = clock.now }
            }
            if let newPrimary, let last = landed.last, last.port == c.server(newPrimary).port, landed.filter({ $0.port == last.port }).count >= 50 { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        let killed = try #require(killedAt)
        let winner = try #require(newPrimary, "a standby was promoted")
        let winnerPort = c.server(winner).port
        let after = landed.filter { $0.at > killed }
        #expect(after.allSatisfy { $0.port == winnerPort }, "after the kill, writes land on \(winner) only: \(Set(after.map(\.port)))")
        #expect(landed.filter { $0.at < killed }.allSatisfy { $0.port == c.server("node1").port })
        let firstOnWinner = try #require(after.first, "writes resumed through HAProxy")
        let outage = firstOnWinner.at - killed
        let promoted = try #require(promotedSeenAt) - killed
        print("haproxy: write outage \(outage) after kill -9 of the primary; \(winner) seen writable after \(promoted) (\(after.count) writes on it after)")
        #expect(outage - promoted < .seconds(2), "HAProxy follows the new primary within 2 s of its promotion (inter 500ms, rise 2)")
        #expect(outage < .seconds(30))
        let committed = Int(c.query(winner, "SELECT count(*) FROM w WHERE v > 0")) ?? -1
        #expect(committed >= after.count, "every write acknowledged on \(winner) is there")
    }
}

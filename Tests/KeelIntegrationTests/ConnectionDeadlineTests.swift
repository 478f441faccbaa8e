import Foundation
import Testing
import KeelCore
import KeelTesting
@testable import KeelPostgres

/// keeld's connections against a frozen server (postmaster and its children stopped with SIGSTOP): the
/// kernel still accepts and acknowledges, nothing answers, and every call must still end by its deadline.
@Suite("connection deadlines on a frozen server", .serialized)
struct ConnectionDeadlineTests {
    /// 1 s checks and 1 s between attempts: connect and queries within 1 s, statement_timeout 800 ms.
    let deadlines = ConnectionDeadlines(monitorInterval: 1, reconnectInterval: 1)

    @Test("connect, query and ping end by their deadlines while the server is frozen, and work again once it resumes")
    func frozenServer() throws {
        let ws = try TestWorkspace(name: "deadline")
        defer { ws.close() }
        let server = try ws.startPrimary(name: "pg")
        let conn = try Connection(conninfo: server.conninfo(), deadlines: deadlines)
        #expect(try conn.queryRow("SHOW statement_timeout")?.string("statement_timeout") == "800ms")
        let postmaster = try #require(server.postmasterPID)
        let frozen = FrozenTree(root: postmaster)
        defer { frozen.thaw() }
        frozen.freeze()

        let queryTook = try elapsed {
            #expect(throws: PostgresError.self) { try conn.query("SELECT 1") }
        }
        #expect(queryTook < deadlines.query + 0.5, "query took \(queryTook) s")
        #expect(!conn.isOK)

        let connectTook = try elapsed {
            #expect(throws: PostgresError.self) { _ = try Connection(conninfo: server.conninfo(), deadlines: deadlines) }
        }
        #expect(connectTook < deadlines.connect + 0.5, "connect took \(connectTook) s")

        var ping = Connection.PingResult.ok
        let pingTook = try elapsed { ping = Connection.ping(server.conninfo(), deadlines: deadlines) }
        #expect(ping == .noResponse)
        #expect(pingTook < deadlines.connect + 0.5, "ping took \(pingTook) s")

        frozen.thaw()
        let again = try Connection(conninfo: server.conninfo(), deadlines: deadlines)
        #expect(try again.queryRow("SELECT 1 AS one")?.int("one") == 1)
    }

    @Test("a statement slower than statement_timeout is cancelled by the server, and the connection stays usable")
    func statementTimeout() throws {
        let ws = try TestWorkspace(name: "stmt-timeout")
        defer { ws.close() }
        let server = try ws.startPrimary(name: "pg")
        let conn = try Connection(conninfo: server.conninfo(), deadlines: deadlines)
        do {
            try conn.query("SELECT pg_catalog.pg_sleep(5)")
            Issue.record("expected a statement timeout")
        } catch {
            #expect(error.sqlState == "57014")
        }
        #expect(conn.isOK)
        #expect(try conn.queryRow("SELECT 2 AS two")?.int("two") == 2)
        // The operator's own options keep statement_timeout: it is then set after connecting.
        let withOptions = try Connection(conninfo: server.conninfo() + " options='-c work_mem=8MB'", deadlines: deadlines)
        #expect(try withOptions.queryRow("SHOW statement_timeout")?.string("statement_timeout") == "800ms")
        #expect(try withOptions.queryRow("SHOW work_mem")?.string("work_mem") == "8MB")
    }

    private func elapsed(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// A process and its descendants, stopped (SIGSTOP) and resumed (SIGCONT) together, read from /proc.
final class FrozenTree {
    let root: pid_t
    private var stopped: [pid_t] = []

    init(root: pid_t) { self.root = root }

    func freeze() {
        var queue = [root]
        while let pid = queue.popLast() {
            if kill(pid, SIGSTOP) == 0 { stopped.append(pid) }
            queue.append(contentsOf: Self.children(of: pid))
        }
    }

    func thaw() {
        for pid in stopped { kill(pid, SIGCONT) }
        stopped = []
    }

    private static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent
        }
    }
}

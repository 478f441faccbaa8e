import Foundation
import Logging
import Testing
import KeelCore
@testable import KeelOps

/// A failed start shows the end of the server's log: pg_ctl itself only says "examine the log output".
@Suite("server log tail on a failed start")
struct ServerLogTailTests {
    private func dataDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "keel-logtail-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path + "/log", withIntermediateDirectories: true)
        return path
    }

    private func makeConfig(_ dataDirectory: String, _ extra: String = "") throws -> KeelConfig {
        try KeelConfig.parse(text: """
            node_id=1
            node_name='node1'
            conninfo='host=127.0.0.1 port=1 user=repmgr dbname=repmgr'
            data_directory='\(dataDirectory)'
            \(extra)
            """, file: "/nonexistent-keel-config-test/keel.conf")
    }

    private func log(lines: ClosedRange<Int>) -> String {
        lines.map { "2026-12-07 21:00:00 UTC [\($0)] LOG:  line \($0)" }.joined(separator: "\n") + "\n"
    }

    @Test("with keel's own pg_ctl command the last 20 lines of log/keel-pg_ctl.log are shown, only the end of a large log is read")
    func pgCtlLog() throws {
        let path = try dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try log(lines: 1...2000).write(toFile: path + "/log/keel-pg_ctl.log", atomically: true, encoding: .utf8)
        let config = try makeConfig(path)
        #expect(ServerLogTail.path(config: config, action: "start") == path + "/log/keel-pg_ctl.log")
        let shown = try #require(ServerLogTail.describe(config: config, action: "start"))
        #expect(shown.hasPrefix("last lines of \"\(path)/log/keel-pg_ctl.log\":\n"))
        #expect(shown.hasSuffix("LOG:  line 2000"))
        #expect(shown.contains("[1981] LOG:  line 1981") && !shown.contains("line 1980"))
        #expect(ServerLogTail.describe(config: config, action: "stop") == nil)
    }

    @Test("a failed service_start_command shows its output and the stderr log current_logfiles names")
    func serviceCommand() async throws {
        let path = try dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try log(lines: 1...3).appending("2026-12-07 21:00:01 UTC [4] FATAL:  could not create any TCP/IP sockets\n")
            .write(toFile: path + "/log/postgresql.log", atomically: true, encoding: .utf8)
        try "stderr log/postgresql.log\n".write(toFile: path + "/current_logfiles", atomically: true, encoding: .utf8)
        let config = try makeConfig(path, "service_start_command='echo could not start server >&2; exit 1'")
        let context = OpsContext(config: config, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, hooks: HookRunner())
        do {
            try await LocalService(context: context).run("start", timeout: 10, failure: .noRestart)
            Issue.record("the start did not fail")
        } catch let error as KeelError {
            #expect(error.status == .noRestart)
            let detail = error.detail ?? ""
            #expect(detail.hasPrefix("could not start server\nlast lines of \"\(path)/log/postgresql.log\":"), "\(detail)")
            #expect(detail.hasSuffix("FATAL:  could not create any TCP/IP sockets"), "\(detail)")
        }
    }
}

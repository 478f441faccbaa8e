import Foundation
import KeelLua
import Testing

/// A `PlaybookHost` without a database: `FakeHost`'s cluster, recorded operations and step reports.
final class FakePlaybookHost: PlaybookHost, ForwardingKeelHost, @unchecked Sendable {
    private let lock = NSLock()
    let base = FakeHost()
    var dryRun = false
    var interrupted = false
    /// Operations fail with this when set.
    var failure: PlaybookOperationError?
    /// Set `interrupted` once this step has started.
    var interruptAfterStart: Int?
    private(set) var operations: [PlaybookOperation] = []
    private(set) var reports: [PlaybookStepReport] = []

    func log(_ level: LuaLogLevel, _ message: String, hook: String) { base.log(level, message, hook: hook) }
    func event(_ name: String, successful: Bool, details: String, hook: String) throws {
        try base.event(name, successful: successful, details: details, hook: hook)
    }

    func operation(_ operation: PlaybookOperation) throws -> String {
        lock.withLock { operations.append(operation) }
        if let failure { throw failure }
        return (dryRun ? "" : "did ") + "\(operation.luaName) \(operation.node)"
    }
    func stepStarted(index: Int, total: Int, name: String) {
        if index == interruptAfterStart { interrupted = true }
    }
    func stepFinished(_ report: PlaybookStepReport) { lock.withLock { reports.append(report) } }
    func waiting(for what: String, elapsed: Double, timeout: Double) {}
}

@Suite("Playbook step runner (no database)")
struct PlaybookRunnerTests {
    private func run(_ source: String, _ arguments: [String: String] = [:], host: FakePlaybookHost = FakePlaybookHost()) async throws -> (PlaybookResult, FakePlaybookHost, String) {
        let folder = try ScriptFolder()
        let path = try folder.write("book.lua", source)
        let engine = try LuaEngine()
        let result = await engine.runPlaybook(path, arguments: arguments, host: host)
        return (result, host, path)
    }

    @Test func stepsRunInOrderAndReportOk() async throws {
        let (result, host, _) = try await run("""
            local seen = {}
            keel.step("one", function() seen[#seen + 1] = 1 end)
            keel.step("two", function() return "note " .. #seen end)
            """)
        #expect(result.outcome == .succeeded)
        #expect(result.exitCode == 0)
        #expect(host.reports.map(\.name) == ["one", "two"])
        #expect(host.reports.map(\.status) == [.ok, .ok])
        #expect(host.reports[1].note == "note 1")
        #expect(host.reports.allSatisfy { $0.total == 2 })
    }

    @Test func failedGateSkipsTheRest() async throws {
        let (result, host, _) = try await run("""
            keel.step("gate", function() return false, "lag too high" end)
            keel.step("switch", function() keel.switchover(2) end)
            keel.step("verify", function() end)
            """)
        #expect(result.outcome == .failed)
        #expect(result.exitCode == 1)
        #expect(host.reports.map(\.status) == [.failed("lag too high"), .skipped, .skipped])
        #expect(host.operations.isEmpty)
    }

    @Test func luaErrorInStepCarriesFileLineAndTraceback() async throws {
        let (result, host, path) = try await run("""
            keel.step("boom", function()
              local t = nil
              return t.x
            end)
            """)
        #expect(result.outcome == .failed)
        let error = try #require(host.reports.first?.error)
        #expect(error.file == path)
        #expect(error.line == 3)
        #expect(error.traceback?.contains("stack traceback") == true)
    }

    @Test func compileErrorNamesFileAndLineBeforeAnyStep() async throws {
        let (result, host, path) = try await run("keel.step(\"a\", function() end)\nlocal = 1\n")
        #expect(result.outcome == .invalid)
        #expect(result.exitCode == 1)
        #expect(result.error?.kind == .syntax)
        #expect(result.error?.file == path)
        #expect(result.error?.line == 2)
        #expect(host.reports.isEmpty)
    }

    @Test func parametersAreCheckedBeforeTheFirstStep() async throws {
        let source = """
            local p = keel.params{ lag_max = 1048576, node = keel.required, back = false }
            keel.step("show", function() return tostring(p.lag_max) .. " " .. p.node .. " " .. tostring(p.back) end)
            """
        let (ok, okHost, _) = try await run(source, ["node": "2", "lag_max": "10", "back": "yes"])
        #expect(ok.outcome == .succeeded)
        #expect(okHost.reports.first?.note == "10 2 true")
        let (missing, missingHost, _) = try await run(source, [:])
        #expect(missing.outcome == .invalid && missing.argumentError)
        #expect(missing.error?.message.contains("missing required argument node=VALUE") == true)
        #expect(missingHost.reports.isEmpty)
        let (unknown, _, _) = try await run(source, ["node": "2", "nope": "1"])
        #expect(unknown.error?.message.contains("unknown argument nope") == true)
        let (bad, _, _) = try await run(source, ["node": "2", "lag_max": "lots"])
        #expect(bad.error?.message.contains("lag_max must be an integer") == true)
        let (undeclared, _, _) = try await run("keel.step('a', function() end)", ["x": "1"])
        #expect(undeclared.outcome == .invalid && undeclared.argumentError)
    }

    @Test func dryRunReportsWouldAndWaitForPasses() async throws {
        let host = FakePlaybookHost()
        host.dryRun = true
        let (result, _, _) = try await run("""
            keel.step("switch", function() keel.switchover(2, {siblings_follow = true}) end)
            keel.step("wait", function() keel.wait_for(function() error("not called") end, {timeout = 30, what = "node2 to stream"}) end)
            keel.step("check", function() end)
            """, host: host)
        #expect(result.outcome == .succeeded)
        #expect(host.reports.map(\.status) == [.would("keel.switchover 2"), .would("wait up to 30 s for node2 to stream"), .ok])
        #expect(host.operations == [.switchover(node: 2, siblingsFollow: true, forceRewind: false, alwaysPromote: false)])
    }

    @Test func failedOperationGivesItsExitCode() async throws {
        let host = FakePlaybookHost()
        host.failure = PlaybookOperationError("node 2 is not a standby", exitCode: 18)
        let (result, _, _) = try await run("""
            keel.step("switch", function() keel.switchover(2) end)
            keel.step("after", function() end)
            """, host: host)
        #expect(result.exitCode == 18)
        #expect(host.reports.map(\.status) == [.failed("keel.switchover: node 2 is not a standby"), .skipped])
    }

    @Test func waitForPollsUntilTrueOrTimesOut() async throws {
        let (result, host, _) = try await run("""
            local n = 0
            keel.step("poll", function() keel.wait_for(function() n = n + 1; return n >= 3 end, {interval = 0.05}); return tostring(n) end)
            keel.step("timeout", function() keel.wait_for(function() return false end, {timeout = 0.2, interval = 0.05, what = "never"}) end)
            """)
        #expect(result.outcome == .failed)
        #expect(host.reports[0].note == "3")
        #expect(host.reports[1].status == .failed("keel.wait_for: gave up after 0.2 s waiting for never"))
    }

    @Test func interruptStopsAtTheNextStepBoundary() async throws {
        let host = FakePlaybookHost()
        host.interruptAfterStart = 1
        let (result, _, _) = try await run("""
            keel.step("one", function() end)
            keel.step("two", function() end)
            """, host: host)
        #expect(result.outcome == .interrupted)
        #expect(result.exitCode == 130)
        #expect(host.reports.map(\.status) == [.ok, .skipped])
    }

    @Test func hooksHaveNoPlaybookFunctions() async throws {
        let folder = try ScriptFolder()
        let path = try folder.write("hook.lua", "return function() return keel.step == nil and keel.args == nil end")
        let engine = try LuaEngine()
        let result = await engine.call(LuaHookReference(path: path), arguments: [], host: FakeHost(), label: "test")
        #expect(result.values.first == .boolean(true))
    }
}

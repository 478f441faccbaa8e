import Foundation
import Testing
import KeelCore
import KeelLua
@testable import KeelOps

/// A shell hook (or `keel.shell`) that overruns its timeout ends with every process it started, not only
/// its `/bin/sh`.
@Suite("hook timeouts end the hook's whole process tree")
struct HookTimeoutTests {
    /// Whether `pid` is a live process (not gone, not a zombie waiting for its parent).
    static func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    /// The PIDs the hook wrote to `file`, waiting up to 5 s for it to be written.
    static func pids(in file: String) async throws -> [pid_t] {
        for _ in 0..<50 {
            if let text = try? String(contentsOfFile: file, encoding: .utf8), text.hasSuffix("\n") {
                return text.split(whereSeparator: \.isNewline).compactMap { pid_t($0) }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return []
    }

    /// Waits up to 10 s for every one of `pids` to end; returns those still running.
    static func survivors(_ pids: [pid_t]) async throws -> [pid_t] {
        for _ in 0..<100 {
            if !pids.contains(where: isRunning) { return [] }
            try await Task.sleep(for: .milliseconds(100))
        }
        return pids.filter(isRunning)
    }

    /// A command that starts two background children (one a grandchild through another shell), writes
    /// their PIDs to `file`, then waits.
    static func command(_ file: String) -> String {
        "sleep 120 & echo $! >> \(file); (sleep 121; true) & echo $! >> \(file); sleep 122"
    }

    @Test("a shell hook that times out is reported as failed and leaves no child running")
    func shellHook() async throws {
        let dir = try HookRunnerTests.Folder()
        let file = dir.path + "/pids"
        let ops = try HookRunnerTests.context(dir.path, "failover_validation_command='\(Self.command(file))'")
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await ops.hooks.run(.failoverValidation, context: ops, luaContext: ["visible": 1], shellTimeout: 1)
        #expect(!outcome.succeeded)
        #expect(outcome.status == 124)
        #expect(clock.now - started < .seconds(8))
        let pids = try await Self.pids(in: file)
        #expect(pids.count == 2)
        let left = try await Self.survivors(pids)
        for pid in left { kill(pid, SIGKILL) }
        #expect(left.isEmpty, "children of the hook still running: \(left)")
    }

    @Test("keel.shell with a timeout ends the command's children too")
    func luaShell() async throws {
        let dir = try HookRunnerTests.Folder()
        let file = dir.path + "/pids"
        try """
            function run()
              local r = keel.shell([[\(Self.command(file))]], {timeout = 1})
              return r.code == 124, "code " .. r.code
            end
            """.write(toFile: dir.path + "/h.lua", atomically: true, encoding: .utf8)
        let ops = try HookRunnerTests.context(dir.path, "failover_validation_command='lua:h.lua#run'\nlua_hook_timeout=15")
        let outcome = await ops.hooks.run(.failoverValidation, context: ops, luaContext: ["visible": 1], shellTimeout: 1)
        #expect(outcome.succeeded, "\(outcome.reason ?? "")")
        let pids = try await Self.pids(in: file)
        #expect(pids.count == 2)
        let left = try await Self.survivors(pids)
        for pid in left { kill(pid, SIGKILL) }
        #expect(left.isEmpty, "children of keel.shell still running: \(left)")
    }
}

import CLua
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore

/// `keel.shell` and `keel.sleep`: both bounded by what is left of the call's budget.
extension KeelModule {
    /// `keel.shell(cmd, {timeout=, env=})` → `{code=, stdout=, stderr=}`. `timeout` (seconds) defaults to,
    /// and is capped by, the budget left; `env` is a table of string variables added to the environment.
    func shell(_ s: LuaStack) throws -> Int32 {
        let host = try requireHost(.shell)
        guard let command = s.string(at: 1) else {
            throw KeelModuleError("keel.shell: argument 1 must be the command (a string), not \(s.typeName(at: 1))")
        }
        let options = s.top >= 2 ? s.value(at: 2) : .null
        guard options.isNull || { if case .table = options { return true }; return false }() else {
            throw KeelModuleError("keel.shell: argument 2 must be an options table {timeout=, env=}, not \(s.typeName(at: 2))")
        }
        var timeout = state.remainingBudget
        if let requested = options["timeout"].doubleValue { timeout = min(timeout, max(0, requested)) }
        var environment: [String: String] = [:]
        if case .table(let env) = options["env"] {
            for (key, value) in env {
                environment[key] = value.stringValue ?? value.description
            }
        }
        let result: LuaShellResult
        do {
            result = try host.shell(command, environment: environment, timeout: timeout)
        } catch {
            throw KeelModuleError("keel.shell: \(error)")
        }
        s.push(.fields([("code", .integer(Int64(result.code))), ("stdout", .string(result.stdout)),
                        ("stderr", .string(result.stderr))]))
        return 1
    }

    /// `keel.sleep(seconds)`: sleeps, at most until the call's deadline (then the call ends with the
    /// budget error).
    func sleep(_ s: LuaStack) throws -> Int32 {
        guard let seconds = s.number(at: 1), seconds >= 0 else {
            throw KeelModuleError("keel.sleep: argument 1 must be a number of seconds ≥ 0, not \(s.typeName(at: 1))")
        }
        let duration = min(seconds, state.remainingBudget)
        if let playbook, let host = host as? any PlaybookHost {
            if host.dryRun { playbook.notes.append("sleep \(Self.seconds(seconds))"); return 0 }
            try pause(duration, host: host, playbook: playbook, what: "sleeping")
            return 0
        }
        if duration > 0 { sleepThread(seconds: duration) }
        return 0
    }
}

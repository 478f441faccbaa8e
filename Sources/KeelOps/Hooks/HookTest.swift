#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelLua

/// `keel hook test NAME [--context FILE.json] [--dry-run] [--json]`: runs the hook configured under key
/// NAME (`failover_validation_command`, `event_notification_command`, …) once, against the context table
/// read from FILE.json or a synthetic one (`HookContext.synthetic`), and prints what it returned, its
/// verdict, how long it took and what it logged. The operator's way to try a hook before a failover
/// needs it.
///
/// The hook runs for real (a promote hook promotes), except with `--dry-run`: then `keel.exec`,
/// `keel.shell` and `keel.event` only log what they would do (a shell hook is still run: Keel cannot see
/// inside it). A Lua script is loaded first and its load time reported apart from the call's.
/// Exit status: 0 when the hook allowed/succeeded (an event hook: ran without error), 1 otherwise or
/// when NAME is not a hook key, is not set, or the context file is unreadable or not a JSON object.
public struct HookTest {
    /// The hook key.
    public let name: String
    /// A JSON file holding the context table; `nil` = synthetic.
    public let contextFile: String?
    /// The node's configuration and output.
    public let context: OpsContext

    /// Makes the operation.
    public init(name: String, contextFile: String?, context: OpsContext) {
        self.name = name
        self.contextFile = contextFile
        self.context = context
    }

    /// Runs the hook and prints the report; returns the exit status (0 or 1). Throws `KeelError` 1 for a
    /// bad NAME, an unset key or a bad context file.
    public func run() async throws -> Int32 {
        let config = context.config
        guard let point = HookPoint.all.first(where: { $0.key == name }) else {
            throw KeelError(.badConfig, "\"\(name)\" is not a hook key",
                            hint: "hook keys: " + HookPoint.all.map(\.key).joined(separator: ", "))
        }
        let hook = Hook(point, in: config)
        guard hook != .none else {
            throw KeelError(.badConfig, "\(name) is not set in \"\(config.path)\"", hint: "set it to a shell command or to lua:PATH#function")
        }
        let table = try readContext(point)
        var loadSeconds: Double?
        if case .lua(let reference) = hook {
            let engine = context.hooks.engine(for: point, config: config)
            let clock = ContinuousClock()
            let started = clock.now
            let host = PostgresKeelHost(context: context, hooks: context.hooks, dryRun: context.dryRun)
            if let error = await engine.load(reference.path, host: host) {
                // The script did not load (syntax error, error or time budget spent at top level): report
                // that, once; calling the hook would load — and run its top-level chunk — a second time.
                var outcome = HookOutcome(kind: .lua, command: hook.description, succeeded: false,
                                          reason: "the script did not load: \(error.message)",
                                          seconds: HookRunner.seconds(clock.now - started))
                outcome.luaError = error
                context.output(context.format == .json ? json(point, hook, table, outcome, nil) : text(point, hook, table, outcome, nil))
                return 1
            }
            loadSeconds = HookRunner.seconds(clock.now - started)
        }
        let budget = [HookPoint.promote: "promote_check_timeout", .follow: "standby_follow_timeout"][point].map { Double(config.int($0)) }
        let outcome = await context.hooks.run(point, hook: hook, context: context, luaContext: table,
                                              shellTimeout: 60, luaBudget: budget, dryRun: context.dryRun)
        context.output(context.format == .json ? json(point, hook, table, outcome, loadSeconds) : text(point, hook, table, outcome, loadSeconds))
        return outcome.succeeded ? 0 : 1
    }

    private func readContext(_ point: HookPoint) throws -> LuaValue {
        guard let contextFile else { return HookContext.synthetic(for: point, config: context.config) }
        guard let data = FileManager.default.contents(atPath: contextFile) else {
            throw KeelError(.badConfig, "cannot read the context file \"\(contextFile)\"")
        }
        let value: LuaValue
        do {
            value = try LuaJSON.decode(String(decoding: data, as: UTF8.self))
        } catch {
            throw KeelError(.badConfig, "the context file \"\(contextFile)\" is not valid JSON", detail: error.description)
        }
        guard case .table = value else {
            throw KeelError(.badConfig, "the context file \"\(contextFile)\" must hold a JSON object (the hook's context table)")
        }
        return value
    }

    private func verdict(_ point: HookPoint, _ outcome: HookOutcome) -> String {
        if outcome.succeeded {
            return point == .failoverValidation ? "allowed" : "succeeded"
        }
        return (point == .failoverValidation ? "vetoed: " : "failed: ") + (outcome.reason ?? "?")
    }

    private func text(_ point: HookPoint, _ hook: Hook, _ table: LuaValue, _ outcome: HookOutcome, _ loadSeconds: Double?) -> String {
        var lines = ["hook:     \(point.key) = \(hook)"]
        lines.append("context:  \(LuaJSON.encode(table))\(contextFile == nil ? " (synthetic)" : "")")
        switch outcome.kind {
        case .shell:
            lines.append("command:  \(outcome.command)")
            lines.append("returned: exit status \(outcome.status.map(String.init) ?? "none (could not run)")")
        default:
            if let error = outcome.luaError {
                lines.append("returned: error (\(error.kind.rawValue))")
            } else {
                lines.append("returned: " + (outcome.values.isEmpty ? "nothing" : outcome.values.map(\.description).joined(separator: ", ")))
            }
        }
        lines.append("verdict:  \(verdict(point, outcome))")
        var notes: [String] = []
        if let call = outcome.callSeconds { notes.append("\(Self.format(call)) in the VM") }
        if let loadSeconds { notes.append("script loaded in \(Self.format(loadSeconds))") }
        lines.append("time:     \(Self.format(outcome.seconds))" + (notes.isEmpty ? "" : " (" + notes.joined(separator: "; ") + ")"))
        var logged = outcome.logs.map { "  \($0.level.rawValue.uppercased()): \($0.message)" }
        logged += outcome.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast(outcome.stdout.hasSuffix("\n") ? 1 : 0)
            .map { "  stdout: \($0)" }.filter { !outcome.stdout.isEmpty || $0 != "  stdout: " }
        logged += outcome.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast(outcome.stderr.hasSuffix("\n") ? 1 : 0)
            .map { "  stderr: \($0)" }.filter { !outcome.stderr.isEmpty || $0 != "  stderr: " }
        if let traceback = outcome.luaError?.traceback {
            logged += traceback.split(separator: "\n").map { "  \($0)" }
        }
        lines.append("logged:" + (logged.isEmpty ? "   nothing" : ""))
        lines += logged
        return lines.joined(separator: "\n")
    }

    private func json(_ point: HookPoint, _ hook: Hook, _ table: LuaValue, _ outcome: HookOutcome, _ loadSeconds: Double?) -> String {
        LuaJSON.encode(.fields([
            ("hook", .string(point.key)), ("value", .string(hook.description)), ("kind", .string(outcome.kind.rawValue)),
            ("command", .string(outcome.command)), ("context", table),
            ("returned", outcome.kind == .lua ? .array(outcome.values) : nil),
            ("status", outcome.status.map { .integer(Int64($0)) }),
            ("stdout", outcome.kind == .shell ? .string(outcome.stdout) : nil),
            ("stderr", outcome.kind == .shell ? .string(outcome.stderr) : nil),
            ("succeeded", .boolean(outcome.succeeded)), ("reason", outcome.reason.map(LuaValue.string)),
            ("seconds", .number(outcome.seconds)), ("call_seconds", outcome.callSeconds.map(LuaValue.number)),
            ("load_seconds", loadSeconds.map(LuaValue.number)),
            ("logs", .array(outcome.logs.map { .fields([("level", .string($0.level.rawValue)), ("message", .string($0.message))]) })),
            ("error", outcome.luaError.map { error in
                .fields([("stage", .string(error.stage.rawValue)), ("kind", .string(error.kind.rawValue)),
                         ("file", error.file.map(LuaValue.string)), ("line", error.line.map { .integer(Int64($0)) }),
                         ("message", .string(error.message)), ("traceback", error.traceback.map(LuaValue.string))])
            }),
        ]))
    }

    /// `0.042 ms`, `12.3 ms`, `1.20 s`.
    static func format(_ seconds: Double) -> String {
        if seconds < 0.001 { return String(cFormat: "%.3f ms", seconds * 1000) }
        if seconds < 1 { return String(cFormat: "%.1f ms", seconds * 1000) }
        return String(cFormat: "%.2f s", seconds)
    }
}

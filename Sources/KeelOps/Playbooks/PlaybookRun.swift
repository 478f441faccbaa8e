#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelLua

/// `keel run PLAYBOOK.lua [--dry-run] [--json] [--yes] [NAME=VALUE ...]`: runs a Lua playbook against the
/// cluster of the node configured in `context` (README "Playbooks").
///
/// The playbook runs in its own `LuaEngine` (the hook runner's engine stays free for the hooks the
/// operations fire), with `lua_memory_limit` and no time budget. Exit status: `PlaybookResult.exitCode`
/// (0 ok, 1 bad playbook or arguments or a failed step, the failing operation's status, 130 interrupted).
public struct PlaybookRun {
    /// The playbook file.
    public let path: String
    /// `NAME=VALUE` words.
    public let assignments: [String]
    /// `--yes`: run operations without asking.
    public let yes: Bool
    /// The node's configuration, logger, `dryRun`, `format` (`--json`) and output.
    public let context: OpsContext

    /// Makes the command.
    public init(path: String, assignments: [String], yes: Bool, context: OpsContext) {
        self.path = path
        self.assignments = assignments
        self.yes = yes
        self.context = context
    }

    /// `NAME=VALUE` words as a table. Throws `KeelError` 1 for a word without `=` or a repeated name.
    public static func parse(_ assignments: [String]) throws -> [String: String] {
        var arguments: [String: String] = [:]
        for word in assignments {
            guard let equals = word.firstIndex(of: "="), equals != word.startIndex else {
                throw KeelError(.badConfig, "playbook argument \"\(word)\" is not NAME=VALUE")
            }
            let name = String(word[..<equals])
            guard arguments[name] == nil else { throw KeelError(.badConfig, "playbook argument \(name) given twice") }
            arguments[name] = String(word[word.index(after: equals)...])
        }
        return arguments
    }

    /// Runs the playbook and prints its steps; returns the exit status. Throws `KeelError` 1 for bad
    /// `NAME=VALUE` words or a VM that cannot be created.
    public func run() async throws -> Int32 {
        let arguments = try Self.parse(assignments)
        let file = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var limits = HookRunner.limits(context.config)
        limits.timeout = Double(Int32.max / 1000)
        let engine: LuaEngine
        do { engine = try LuaEngine(limits: limits) } catch { throw KeelError(.badConfig, "cannot start Lua: \(error)") }
        let reporter = PlaybookReporter(json: context.format == .json, write: context.output)
        let interrupt = PlaybookInterrupt()
        let host = PostgresPlaybookHost(base: PostgresKeelHost(context: context, hooks: context.hooks, dryRun: context.dryRun),
                                        operations: PlaybookOperations(context: context), reporter: reporter,
                                        interrupt: interrupt, yes: yes)
        interrupt.install()
        let result = await engine.runPlaybook(file, arguments: arguments, host: host)
        interrupt.remove()
        if let error = result.error {
            let what = result.argumentError ? "bad arguments for playbook \(file)" : "playbook \(file) cannot run"
            context.logger.error("\(what): \(error)")
            if let traceback = error.traceback { context.logger.error("\(traceback)") }
        }
        reporter.summary(result, path: file, dryRun: context.dryRun)
        return result.exitCode
    }
}

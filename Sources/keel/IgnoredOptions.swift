import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelOps

/// repmgr's global options on a command that does not use them: removed before parsing, each named in
/// one warning on stderr (as repmgr's `check_cli_parameters` does), so that a repmgr script runs on.
enum IgnoredOptions {
    /// The command the words at the start of `arguments` name (`["node", "check", …]`) and how many
    /// words name it, if any.
    static func leaf(of arguments: [String]) -> (command: ParsableCommand.Type, words: Int)? {
        guard let object = arguments.first,
              let group = Keel.configuration.subcommands.first(where: { $0._commandName == object }) else { return nil }
        let actions = group.configuration.subcommands
        if actions.isEmpty { return (group, 1) }
        guard arguments.count > 1, let action = actions.first(where: { $0._commandName == arguments[1] }) else { return nil }
        return (action, 2)
    }

    /// `arguments` without the repmgr global options the command does not declare; warns about those.
    static func remove(from arguments: [String]) -> [String] {
        // Rendering a command's help costs start-up time: only when one of the options is there at all.
        guard RepmgrGlobalOptions.mentioned(in: arguments), let (leaf, words) = leaf(of: arguments),
              !arguments.contains("--help"), !arguments.contains("-?") else { return arguments }
        var declared = RepmgrGlobalOptions.declared(inHelp: Keel.helpMessage(for: leaf, includeHidden: true, columns: 10_000))
        // A flag whose value travels in a hidden option (`--wait-sync=5` → `--wait-sync --wait-sync-timeout=5`) takes one.
        for (name, hidden) in ArgumentNormalizer.optionalValueOptions where declared[hidden] != nil { declared[name] = true }
        let (kept, ignored) = RepmgrGlobalOptions.strip(arguments, declared: declared)
        let command = "keel " + arguments.prefix(words).joined(separator: " ")
        let values = ignored.filter { RepmgrGlobalOptions.isValueOnly($0, declared: declared) }
        let options = ignored.filter { !values.contains($0) }
        if !options.isEmpty {
            let list = options.map { "\"\($0)\"" }.joined(separator: ", ")
            let (verb, be) = options.count == 1 ? ("has", "is") : ("have", "are")
            writeStandardError("WARNING: \(list) \(verb) no effect on \"\(command)\" and \(be) ignored\n")
        }
        for value in values {
            let name = value.prefix { $0 != "=" }
            writeStandardError("WARNING: the value of \"\(value)\" is ignored: \"\(command)\" takes \(name) without one\n")
        }
        return kept
    }
}

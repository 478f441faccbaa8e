import ArgumentParser
#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelOps

// keel: the operator CLI (repmgr's grammar). Like repmgr it refuses to run as root.
if geteuid() == 0 {
    writeStandardError("ERROR: keel must not be run as root\nHINT: run it as the operating system user that owns the PostgreSQL data directory (usually \"postgres\")\n")
    exit(ExitStatus.badConfig.rawValue)
}

func fail(_ message: String, hint: String? = nil) -> Never {
    writeStandardError(KeelError(.badConfig, message, hint: hint).description + "\n")
    exit(ExitStatus.badConfig.rawValue)
}

// repmgr's stand-alone options: `-V`/`--version`/`--version-number`, answered first: no argument
// reordering, no command tree, no `print` (whose first dynamic cast scans every protocol conformance in the
// binary), so a version check costs little more than loading the libraries.
if CommandLine.arguments.count == 2, let answer = Keel.versionAnswer(CommandLine.arguments[1]) {
    writeAll(fd: 1, answer + "\n")
    exit(0)
}
var arguments = ArgumentNormalizer.reorder(Array(CommandLine.arguments.dropFirst()))
// `--dump-config`: read the file, print the parsed settings as `key|value`, exit 0; any other argument but
// the global options is ignored.
if arguments.contains("--dump-config") {
    do {
        let options = try GlobalOptions.parse(arguments.filter { $0 != "--dump-config" })
        let config = try options.loadConfig()
        for warning in config.warnings { writeStandardError("WARNING: \(warning)\n") }
        print(config.dumpLines().joined(separator: "\n"))
        exit(0)
    } catch let error as KeelError {
        writeStandardError(error.description + "\n")
        exit(error.status.rawValue)
    } catch {
        fail(GlobalOptions.message(for: error), hint: "--dump-config takes only the global options (-f FILE)")
    }
}
// An unknown object or action gets repmgr's kind of message and exit 1, before option parsing.
if let object = arguments.first, !object.hasPrefix("-"), object != "help" {
    guard let group = Keel.configuration.subcommands.first(where: { $0._commandName == object }) else {
        fail("unknown command \"\(object)\"", hint: "objects: " + Keel.configuration.subcommands.map { $0._commandName }.joined(separator: ", "))
    }
    let actions = group.configuration.subcommands.map { $0._commandName }
    if !actions.isEmpty {
        let action = arguments.dropFirst().first
        if action == nil || action!.hasPrefix("-") {
            if !arguments.contains("--help") && !arguments.contains("-?") {
                fail("no action given for \"\(object)\"", hint: "actions: " + actions.joined(separator: ", "))
            }
        } else if !actions.contains(action!) {
            fail("unknown \(object) action \"\(action!)\"", hint: "actions: " + actions.joined(separator: ", "))
        }
    }
}
// repmgr's options a command does not use go before the optional values are split (`--wait-sync=5`).
arguments = ArgumentNormalizer.splitOptionalValues(IgnoredOptions.remove(from: arguments))
do {
    var command = try await Keel.asyncParseAsRoot(arguments)
    if let leaf = command as? any KeelCommand {
        try await leaf.execute()
    } else if command is Keel {
        writeStandardError(Keel.helpMessage() + "\n")
        exit(ExitStatus.badConfig.rawValue)
    } else {
        try command.run()
    }
} catch {
    let code = Keel.exitCode(for: error)
    if code != .success, code.rawValue == ExitCode.validationFailure.rawValue {
        // Command-line mistakes exit 1 (ERR_BAD_CONFIG), as repmgr's do.
        writeStandardError("ERROR: " + Keel.message(for: error) + "\n")
        exit(ExitStatus.badConfig.rawValue)
    }
    Keel.exit(withError: error)
}

import ArgumentParser

/// `keel [-f CONFIG] OBJECT ACTION [options]`: repmgr's command grammar.

struct Keel: AsyncParsableCommand {
    /// The release, as `--version-number` prints it; `-V`/`--version` print `keel <number>` (repmgr prints
    /// `repmgr 5.3.3` for both).
    static let versionNumber = "0.1.0"

    /// What the lone argument `-V`, `--version` or `--version-number` prints (without the newline); nil for
    /// any other argument.
    static func versionAnswer(_ argument: String) -> String? {
        switch argument {
        case "-V", "--version": "keel \(versionNumber)"
        case "--version-number": versionNumber
        default: nil
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "keel",
        abstract: "Replication and failover manager for PostgreSQL (repmgr-compatible, with Lua hooks).",
        discussion: """
            repmgr's grammar: keel [-f CONFIG] OBJECT ACTION [options], options before or after the words. \
            Every repmgr 5.3 global option is accepted by every command (-R, -S, -C, -D, --node-id, --node-name, \
            --nagios, --optformat, --detail, -w/--wait, -W/--no-wait, --wait-start, --wait-sync, --csv, --compact, \
            -t, --dry-run, -F); where one has no effect on a command, keel says so in a WARNING and ignores it. \
            Also: keel -f CONFIG --dump-config prints the parsed settings (key|value); -V, --version-number.
            """,
        version: versionAnswer("--version")!,
        subcommands: [Primary.self, Standby.self, Witness.self, Node.self, Cluster.self, Service.self, Daemon.self, Hook.self, Run.self,
                      Sandbox.self],
        helpNames: [.customLong("help"), .customShort("?")]
    )
}

/// A leaf command. `main.swift` calls `execute()` directly: with Swift 6 overload resolution an
/// `AsyncParsableCommand`'s `run()` called through an existential picks the synchronous default.
protocol KeelCommand: AsyncParsableCommand {
    func execute() async throws
}

/// `--node-id` values: 1 … 2147483647 (`repmgr.nodes.node_id` is an INTEGER, ≥ 1).
enum NodeIDOption {
    static func check(_ id: Int?) throws {
        guard let id else { return }
        guard (1...Int(Int32.max)).contains(id) else { throw ValidationError("--node-id must be between 1 and \(Int32.max), not \(id)") }
    }
}

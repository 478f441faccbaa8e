import ArgumentParser
import KeelCore
import KeelOps

/// `keel hook test NAME [--context FILE.json]`: try a configured hook (shell or Lua) before a failover needs it.
struct Hook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hook", abstract: "Try the hooks configured in this node's configuration.",
                                                    subcommands: [Test.self])

    struct Test: KeelCommand {
        static let configuration = CommandConfiguration(
            commandName: "test",
            abstract: "Run the hook configured under NAME once and print what it returned, its verdict, its time and its log.",
            discussion: """
                NAME is a hook key: failover_validation_command, promote_command, follow_command, \
                event_notification_command, child_nodes_disconnect_command or service_<action>_command. \
                The hook gets the context table of FILE.json (--context), else a synthetic one with this node's \
                identity; a shell hook gets the placeholders taken from that table. The hook runs for real; with \
                --dry-run, keel.exec, keel.shell and keel.event only log what they would do. Exit status 0 when \
                the hook allowed or succeeded, 1 otherwise.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The hook key, e.g. failover_validation_command.") var name: String
        @Option(name: .customLong("context"), help: "JSON file with the context table (default: synthetic).") var contextFile: String?

        func execute() async throws {
            try await perform {
                try await HookTest(name: name, contextFile: contextFile, context: try global.makeContext()).run()
            }
        }
    }
}

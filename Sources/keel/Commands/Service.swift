import ArgumentParser
import KeelCore
import KeelOps

/// `keel service status|pause|unpause`: every node's keeld.
struct Service: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "service", abstract: "Status and pausing of every node's keeld.",
                                                    subcommands: [Status.self, Pause.self, Unpause.self])

    struct Status: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Every node's PostgreSQL and keeld: running, PID, paused, upstream last seen.")
        @OptionGroup var global: GlobalOptions

        func execute() async throws {
            try await perform { try await ServiceStatus(context: try global.makeContext()).run().rawValue }
        }
    }

    struct Pause: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "pause", abstract: "Pause keeld on every node (monitoring continues, no failover).")
        @OptionGroup var global: GlobalOptions

        func execute() async throws {
            try await perform { try await ServicePause(context: try global.makeContext(), pause: true).run(); return 0 }
        }
    }

    struct Unpause: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "unpause", abstract: "Resume failover handling of keeld on every node.")
        @OptionGroup var global: GlobalOptions

        func execute() async throws {
            try await perform { try await ServicePause(context: try global.makeContext(), pause: false).run(); return 0 }
        }
    }
}

/// `keel daemon start|stop|status|pause|unpause`: this node's keeld; status/pause/unpause as `service`.
struct Daemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "daemon", abstract: "Start or stop this node's keeld; status, pause and unpause as \"service\".",
                                                    subcommands: [Start.self, Stop.self, Service.Status.self, Service.Pause.self, Service.Unpause.self])

    struct Start: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "start", abstract: "Start keeld (repmgrd_service_start_command, else keeld -d).")
        @OptionGroup var global: GlobalOptions
        @Option(name: [.customShort("w"), .long], help: "Seconds to wait for keeld to run (default 15).") var wait: Int = 15
        @Flag(name: .customLong("no-wait"), help: "Do not wait.") var noWait = false

        func execute() async throws {
            try await perform {
                try await DaemonControl(context: try global.makeContext(), action: .start, wait: noWait ? 0 : wait).run()
                return 0
            }
        }
    }

    struct Stop: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop keeld (repmgrd_service_stop_command, else SIGTERM).")
        @OptionGroup var global: GlobalOptions
        @Option(name: [.customShort("w"), .long], help: "Seconds to wait for keeld to stop (default 15).") var wait: Int = 15
        @Flag(name: .customLong("no-wait"), help: "Do not wait.") var noWait = false

        func execute() async throws {
            try await perform {
                try await DaemonControl(context: try global.makeContext(), action: .stop, wait: noWait ? 0 : wait).run()
                return 0
            }
        }
    }
}

import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelOps
import Logging

/// `keel sandbox create|start|stop|status|destroy DIR`: a local cluster to try Keel with.
struct Sandbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sandbox", abstract: "A real local cluster (Unix sockets only, yours alone), built and run by Keel.",
                                                    subcommands: [Create.self, Start.self, Stop.self, Status.self, Destroy.self])

    /// Options of every sandbox command (no configuration file: each node has its own in DIR).
    struct Common: ParsableArguments {
        @Argument(help: "The sandbox directory.") var directory: String
        @Flag(name: [.customShort("v"), .long], help: "Verbose output.") var verbose = false
        @Flag(name: [.customShort("q"), .long], help: "Only errors.") var quiet = false

        var logger: Logger {
            let level: Logger.Level = verbose ? .info : (quiet ? .error : .notice)
            return Logger(label: "keel.sandbox") { _ in ConsoleLogHandler(level: level) }
        }
    }

    struct Create: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Build a primary, standbys (and a witness) and start a keeld on each.")
        @OptionGroup var common: Common
        @Option(help: "Data nodes: the primary and N-1 standbys (default 3).") var nodes: Int = 3
        @Flag(help: "Add a witness.") var witness = false
        @Option(name: .customLong("base-port"), help: "First port (default 55432).") var basePort: Int = 55432
        @Option(help: "Comma-separated locations given to the nodes in turn.") var locations: String = "default"
        @Flag(name: .customLong("lua-hooks"), help: "Wire in the sample Lua hooks (validation, notification).") var luaHooks = false
        @Option(name: [.customShort("b"), .customLong("pg_bindir"), .customLong("pg-bindir")], help: "PostgreSQL binaries.") var pgBindir: String?
        @Option(help: "\"etcd\": start a 3-member etcd beside the nodes and set dcs on every node.") var dcs: String?

        func execute() async throws {
            let options = SandboxCreate.Options(nodes: nodes, witness: witness, basePort: basePort,
                                                locations: locations.split(separator: ",").map { $0.trimmingSpaces() },
                                                luaHooks: luaHooks, pgBindir: pgBindir, etcd: dcs != nil)
            try await perform {
                if let dcs, dcs != "etcd" { throw KeelError(.badConfig, "--dcs: unsupported store \"\(dcs)\" (only \"etcd\")") }
                try await SandboxCreate(directory: common.directory, options: options, logger: common.logger).run()
                return 0
            }
        }
    }

    struct Start: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "start", abstract: "Start every server and keeld of the sandbox.")
        @OptionGroup var common: Common
        func execute() async throws {
            try await perform { try await SandboxControl(directory: common.directory, logger: common.logger).run(.start).rawValue }
        }
    }

    struct Stop: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop every keeld and server of the sandbox.")
        @OptionGroup var common: Common
        func execute() async throws {
            try await perform { try await SandboxControl(directory: common.directory, logger: common.logger).run(.stop).rawValue }
        }
    }

    struct Status: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Which servers and keelds of the sandbox run.")
        @OptionGroup var common: Common
        func execute() async throws {
            try await perform { try await SandboxControl(directory: common.directory, logger: common.logger).run(.status).rawValue }
        }
    }

    struct Destroy: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "destroy", abstract: "Stop everything the sandbox started and remove its directory.")
        @OptionGroup var common: Common
        func execute() async throws {
            try await perform { try await SandboxControl(directory: common.directory, logger: common.logger).run(.destroy).rawValue }
        }
    }
}

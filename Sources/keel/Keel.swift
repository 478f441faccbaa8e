import ArgumentParser

/// `keel [-f CONFIG] OBJECT ACTION [options]`: repmgr's command grammar.

struct Keel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keel",
        abstract: "Replication and failover manager for PostgreSQL (repmgr-compatible, with Lua hooks).",
        version: "0.1.0",
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

import ArgumentParser

/// `keel [-f CONFIG] OBJECT ACTION [options]`: repmgr's command grammar.

struct Keel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keel",
        abstract: "Replication and failover manager for PostgreSQL (repmgr-compatible, with Lua hooks).",
        version: "0.1.0",
        subcommands: [Primary.self, Standby.self, Witness.self, Node.self, Cluster.self],
        helpNames: [.customLong("help"), .customShort("?")]
    )
}

/// A leaf command. `main.swift` calls `execute()` directly: with Swift 6 overload resolution an
/// `AsyncParsableCommand`'s `run()` called through an existential picks the synchronous default.
protocol KeelCommand: AsyncParsableCommand {
    func execute() async throws
}

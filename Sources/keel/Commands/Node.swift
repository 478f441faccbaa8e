import ArgumentParser
import KeelCore
import KeelOps

/// `keel node status|check`.
struct Node: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Status and health checks of this node.",
                                                    subcommands: [Status.self, Check.self])

    struct Status: KeelCommand {
        static let configuration = CommandConfiguration(abstract: "Overview of this node.")
        @OptionGroup var global: GlobalOptions

        func execute() async throws {
            try await perform { try await NodeStatus(context: try global.makeContext()).run().rawValue }
        }
    }

    struct Check: KeelCommand {
        static let configuration = CommandConfiguration(abstract: "Health checks; a single check exits with its Nagios code.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Registered role matches the server's.") var role = false
        @Flag(name: .customLong("replication-lag"), help: "Replay lag against replication_lag_warning/critical.") var replicationLag = false
        @Flag(name: .customLong("archive-ready"), help: "WAL files waiting for archiving.") var archiveReady = false
        @Flag(help: "Registered downstream nodes are attached.") var downstream = false
        @Flag(help: "This standby streams from its upstream.") var upstream = false
        @Flag(help: "No inactive physical replication slots.") var slots = false
        @Flag(name: .customLong("missing-slots"), help: "Slots of downstream nodes exist.") var missingSlots = false
        @Flag(help: "Nagios plugin output.") var nagios = false

        func execute() async throws {
            var selected: [NodeCheck.Kind] = []
            if role { selected.append(.role) }
            if replicationLag { selected.append(.replicationLag) }
            if archiveReady { selected.append(.archiveReady) }
            if downstream { selected.append(.downstream) }
            if upstream { selected.append(.upstream) }
            if slots { selected.append(.slots) }
            if missingSlots { selected.append(.missingSlots) }
            let checks = selected
            try await perform {
                try await NodeCheck(context: try global.makeContext(format: nagios ? .nagios : nil), checks: checks).run()
            }
        }
    }
}

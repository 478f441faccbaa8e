import ArgumentParser
import KeelCore
import KeelOps
import KeelPostgres

/// `keel cluster show|matrix|crosscheck|event|cleanup`.
struct Cluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cluster", abstract: "Cluster-wide listings and maintenance.",
                                                    subcommands: [Show.self, Matrix.self, Crosscheck.self, Event.self, Cleanup.self])

    struct Matrix: KeelCommand {
        static let configuration = CommandConfiguration(
            commandName: "matrix",
            abstract: "Connectivity matrix: each node runs \"cluster show --csv\" (over ssh, or locally on this host).",
            discussion: "* connected, x failed, ? unknown. Exit 25 when a node cannot reach another, else 12 when a node's view could not be obtained.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var remote: RemoteUserOption

        func execute() async throws {
            try await perform {
                try await ClusterMatrix(context: try global.makeContext(), crosscheck: false, remoteUser: remote.remoteUser).run().rawValue
            }
        }
    }

    struct Crosscheck: KeelCommand {
        static let configuration = CommandConfiguration(
            commandName: "crosscheck",
            abstract: "Every node's connectivity matrix, merged (each node runs \"cluster matrix --csv\").",
            discussion: "Exit codes as cluster matrix.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var remote: RemoteUserOption

        func execute() async throws {
            try await perform {
                try await ClusterMatrix(context: try global.makeContext(), crosscheck: true, remoteUser: remote.remoteUser).run().rawValue
            }
        }
    }

    struct Show: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Every node with role, status, upstream, location, priority, timeline.")
        @OptionGroup var global: GlobalOptions

        func execute() async throws {
            try await perform {
                let context = try global.makeContext(fileOptional: true)
                let consensus = ConsensusSection(context: context)
                let status: ExitStatus
                do {
                    status = try await ClusterShow(context: context, compact: global.compact).run()
                } catch let error as KeelError where error.status == .dbConnection && consensus.isConfigured {
                    // The node the metadata is read from is down: the consensus store still answers.
                    context.logger.error("\(error.message)")
                    consensus.print()
                    return ExitStatus.nodeStatus.rawValue
                }
                consensus.print()
                return status.rawValue
            }
        }
    }

    struct Event: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "event", abstract: "Events recorded in repmgr.events, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Number of events.") var limit: Int = 20
        @Flag(help: "All events (no limit).") var all = false
        @Option(help: "Only this event name.") var event: String?
        @Option(name: .customLong("node-id"), help: "Only events of this node.") var nodeID: Int?
        @Option(name: .customLong("node-name"), help: "Only events of this node name.") var nodeName: String?

        func validate() throws {
            if limit < 1 { throw ValidationError("--limit must be at least 1") }
            if limit > Int(Int32.max) { throw ValidationError("--limit must be at most \(Int32.max) (use --all for every event)") }
            try NodeIDOption.check(nodeID)
        }

        func execute() async throws {
            let filter = MetadataStore.EventFilter(limit: all ? nil : limit, event: event, nodeID: nodeID, nodeName: nodeName)
            try await perform {
                try await ClusterEvent(context: try global.makeContext(fileOptional: true), filter: filter, compact: global.compact).run()
                return 0
            }
        }
    }

    struct Cleanup: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "cleanup", abstract: "Delete monitoring history older than --keep-history days.")
        @OptionGroup var global: GlobalOptions
        @Option(name: [.customShort("k"), .customLong("keep-history")], help: "Days of history to keep (0: delete all).") var keepHistory: Int = 0
        @Option(name: .customLong("node-id"), help: "Only this standby's history.") var nodeID: Int?

        func validate() throws { try NodeIDOption.check(nodeID) }

        func execute() async throws {
            try await perform {
                try await ClusterCleanup(context: try global.makeContext(), keepDays: keepHistory, nodeID: nodeID).run()
                return 0
            }
        }
    }
}

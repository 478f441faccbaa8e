import ArgumentParser
import KeelCore
import KeelOps

/// `keel node status|check|rejoin|service`.
struct Node: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "node", abstract: "Status, health checks, rejoin and service control of this node.",
                                                    subcommands: [Status.self, Check.self, Rejoin.self, NodeServiceCommand.self])

    struct Status: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Overview of this node.")
        @OptionGroup var global: GlobalOptions
        @Flag(name: .customLong("is-shutdown-cleanly"), help: .hidden) var isShutdownCleanly = false

        func execute() async throws {
            if isShutdownCleanly {
                try await perform { await NodeShutdownState(context: try global.makeContext()).run(); return 0 }
                return
            }
            try await perform { try await NodeStatus(context: try global.makeContext()).run().rawValue }
        }
    }

    struct Rejoin: KeelCommand {
        static let configuration = CommandConfiguration(
            commandName: "rejoin",
            abstract: "Rejoin this stopped node (e.g. a former primary) as a standby of the current primary.",
            discussion: """
                -d names any reachable node of the cluster; the current primary is found from it. A node whose \
                timeline diverged from the primary's is refused (exit 24) unless --force-rewind, which runs \
                pg_rewind (needs wal_log_hints=on or data checksums; --force-rewind=PATH names the pg_rewind \
                program; --config-file is passed when config_directory holds postgresql.conf). --config-files \
                lists files to keep across pg_rewind, copied meanwhile under --config-archive-dir (default: the \
                temporary directory). Writes standby.signal and primary_conninfo, creates the replication slot, \
                starts the server, waits up to node_rejoin_timeout seconds for it to stream, records it as a \
                standby and the event node_rejoin. --dry-run runs the checks and prints the plan.
                """)
        @OptionGroup var global: GlobalOptions
        @Flag(name: .customLong("force-rewind"), help: "Run pg_rewind when this node's timeline diverged (--force-rewind=PATH: that pg_rewind).") var forceRewind = false
        @Option(name: .customLong("force-rewind-path"), help: .hidden) var forceRewindPath: String?
        @Option(name: .customLong("config-files"), help: "Comma-separated files (relative to the data directory, or absolute) to keep across pg_rewind.") var configFiles: String?
        @Option(name: .customLong("config-archive-dir"), help: "Directory for the copies of --config-files during pg_rewind (default: the temporary directory).") var configArchiveDir: String?
        @Flag(name: [.customShort("W"), .customLong("no-wait")], help: "Do not wait for the node to stream from the primary.") var noWait = false

        func execute() async throws {
            let files = (configFiles ?? "").split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
            let options = NodeRejoin.Options(forceRewind: forceRewind, rewindPath: forceRewindPath.flatMap { $0.isEmpty ? nil : $0 },
                                             configFiles: files, configArchiveDirectory: configArchiveDir, noWait: noWait)
            try await perform {
                _ = try await NodeRejoin(context: try global.makeContext(), options: options).run()
                return 0
            }
        }
    }

    struct NodeServiceCommand: KeelCommand {
        static let configuration = CommandConfiguration(
            commandName: "service",
            abstract: "Start, stop, restart, reload or promote this node's PostgreSQL (service_*_command, else pg_ctl).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "start, stop, restart, reload or promote.") var action: String?
        @Flag(help: "Issue CHECKPOINT before stop or restart.") var checkpoint = false
        @Flag(name: .customLong("list-actions"), help: "Print the command of each action and do nothing.") var listActions = false

        func validate() throws {
            if let action, NodeService.Action(rawValue: action.lowercased()) == nil {
                throw ValidationError("unknown --action \"\(action)\": use start, stop, restart, reload or promote")
            }
            if action == nil, !listActions { throw ValidationError("--action is required (or --list-actions)") }
        }

        func execute() async throws {
            let chosen = action.flatMap { NodeService.Action(rawValue: $0.lowercased()) }
            try await perform {
                try await NodeService(context: try global.makeContext(), action: chosen, checkpoint: checkpoint, listActions: listActions).run()
                return 0
            }
        }
    }

    struct Check: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "check", abstract: "Health checks; a single check exits with its Nagios code.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Registered role matches the server's.") var role = false
        @Flag(name: .customLong("replication-lag"), help: "Replay lag against replication_lag_warning/critical.") var replicationLag = false
        @Flag(name: .customLong("archive-ready"), help: "WAL files waiting for archiving.") var archiveReady = false
        @Flag(help: "Registered downstream nodes are attached.") var downstream = false
        @Flag(help: "This standby streams from its upstream.") var upstream = false
        @Flag(help: "No inactive physical replication slots.") var slots = false
        @Flag(name: .customLong("missing-slots"), help: "Slots of downstream nodes exist.") var missingSlots = false
        @Flag(name: .customLong("data-directory-config"), help: "data_directory matches the server's.") var dataDirectoryConfig = false
        @Flag(help: "keeld runs on this node (WARNING when paused); repmgr's name.") var repmgrd = false
        @Flag(name: .customLong("db-connection"), help: "The database accepts this node's conninfo.") var dbConnection = false
        @Flag(name: .customLong("replication-config-owner"), help: "postgresql.auto.conf is owned by the data directory's owner.")
        var replicationConfigOwner = false
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
            if dataDirectoryConfig { selected.append(.dataDirectoryConfig) }
            if repmgrd { selected.append(.repmgrd) }
            if dbConnection { selected.append(.dbConnection) }
            if replicationConfigOwner { selected.append(.replicationConfigOwner) }
            let checks = selected
            try await perform {
                try await NodeCheck(context: try global.makeContext(format: nagios ? .nagios : nil), checks: checks).run()
            }
        }
    }
}

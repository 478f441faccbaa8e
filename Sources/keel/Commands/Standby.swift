import ArgumentParser
import KeelCore
import KeelOps

/// `keel standby clone|register|unregister|promote|follow|switchover`.
struct Standby: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Clone, register, unregister, promote standbys, make them follow a new upstream, switch over.",
                                                    subcommands: [Clone.self, Register.self, Unregister.self, Promote.self, Follow.self, Switchover.self])

    struct Clone: KeelCommand {
        static let configuration = CommandConfiguration(abstract: "Clone a standby from the node given with -h/-p/-U/-d (pg_basebackup -X stream).")
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("upstream-node-id"), help: "Node the standby will replicate from (default: the primary).") var upstreamNodeID: Int?
        @Flag(name: [.customShort("c"), .customLong("fast-checkpoint")], help: "Request an immediate checkpoint on the source.") var fastCheckpoint = false

        func execute() async throws {
            try await perform {
                let options = StandbyClone.Options(upstreamNodeID: upstreamNodeID, fastCheckpoint: fastCheckpoint, pgBindir: global.pgBindir)
                try await StandbyClone(context: try global.makeContext(), options: options).run()
                return 0
            }
        }
    }

    struct Register: KeelCommand {
        static let configuration = CommandConfiguration(abstract: "Register this running standby with the primary.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("upstream-node-id"), help: "Upstream node (default: the primary).") var upstreamNodeID: Int?
        @Option(name: .customLong("wait-start"), help: "Seconds to wait for the local server to start (default 30).") var waitStart: Int = 30

        func execute() async throws {
            try await perform {
                try await StandbyRegister(context: try global.makeContext(),
                                          options: .init(upstreamNodeID: upstreamNodeID, waitStart: waitStart)).run()
                return 0
            }
        }
    }

    struct Unregister: KeelCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a standby's record (this node, or --node-id N from anywhere).")
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("node-id"), help: "Node to unregister (default: this node).") var nodeID: Int?

        func validate() throws { try NodeIDOption.check(nodeID) }

        func execute() async throws {
            try await perform { try await NodeUnregister(context: try global.makeContext(), type: .standby, nodeID: nodeID).run(); return 0 }
        }
    }

    struct Promote: KeelCommand {
        static let configuration = CommandConfiguration(
            abstract: "Promote this standby to primary.",
            discussion: """
                Refused (exit 8) when this node is not a standby, another registered node is running as a primary, \
                or WAL replay is paused. Promotes with pg_promote() (or service_promote_command) and waits up to \
                promote_check_timeout seconds; then records this node as the primary, the former primary as \
                inactive, increments the voting term and records the event standby_promote. \
                --siblings-follow: the other standbys of the former primary then follow this node (keel standby \
                follow run on each, over ssh or locally); never use it inside promote_command. \
                --dry-run checks and prints what would be done.
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var remote: RemoteUserOption
        @Flag(name: .customLong("siblings-follow"), help: "Make the other standbys of the former primary follow this node.") var siblingsFollow = false

        func execute() async throws {
            try await perform {
                _ = try await StandbyPromote(context: try global.makeContext(),
                                             options: .init(siblingsFollow: siblingsFollow, remoteUser: remote.remoteUser)).run()
                return 0
            }
        }
    }

    struct Follow: KeelCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make this running standby follow a new upstream (default: the running primary).",
            discussion: """
                Checks the follow target's system identifier and timeline history (exit 23 when this standby has \
                diverged: rewind it with "keel node rejoin --force-rewind"), creates its replication slot on the \
                target (use_replication_slots), sets primary_conninfo and primary_slot_name with ALTER SYSTEM and \
                reloads (restarts with standby_follow_restart), waits up to standby_follow_timeout seconds for \
                streaming, drops the slot on the former upstream, records the new upstream and the event \
                standby_follow. --dry-run checks and prints what would be done.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("upstream-node-id"), help: "Node to follow (default: the node running as primary).") var upstreamNodeID: Int?
        @Flag(name: [.customShort("w"), .customShort("W"), .customLong("wait")],
              help: "Wait up to primary_follow_timeout seconds for the node to follow to become reachable.") var wait = false

        func execute() async throws {
            try await perform {
                _ = try await StandbyFollow(context: try global.makeContext(),
                                            options: .init(upstreamNodeID: upstreamNodeID, wait: wait)).run()
                return 0
            }
        }
    }

    struct Switchover: KeelCommand {
        static let configuration = CommandConfiguration(
            abstract: "Promote this standby and demote the current primary to its standby, without data loss.",
            discussion: """
                Run on the standby to promote. Checks the primary, the replication lag (replication_lag_critical; \
                --force to override), free walsenders and slots; pauses keeld everywhere; stops the primary with \
                "keel node service --action=stop --checkpoint" run on its host (ssh, or locally), confirms its clean \
                shutdown (shutdown_check_timeout) and that this node received its shutdown checkpoint \
                (--always-promote to promote anyway); promotes; rejoins the old primary with "keel node rejoin" \
                (--force-rewind, --config-files passed on); --siblings-follow makes the other standbys follow. \
                Exit 18: failed, nothing changed; exit 22: incomplete, the commands to run next are printed.
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var remote: RemoteUserOption
        @Flag(name: .customLong("siblings-follow"), help: "Make the other standbys of the old primary follow this node.") var siblingsFollow = false
        @Flag(name: .customLong("force-rewind"), help: "Let the old primary's rejoin run pg_rewind when needed.") var forceRewind = false
        @Flag(name: .customLong("always-promote"), help: "Promote even if this node did not receive the old primary's shutdown checkpoint.") var alwaysPromote = false
        @Option(name: .customLong("config-files"), help: "Comma-separated files passed to the old primary's node rejoin.") var configFiles: String?

        func execute() async throws {
            let files = (configFiles ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let options = StandbySwitchover.Options(siblingsFollow: siblingsFollow, forceRewind: forceRewind, alwaysPromote: alwaysPromote,
                                                    configFiles: files, remoteUser: remote.remoteUser)
            try await perform {
                _ = try await StandbySwitchover(context: try global.makeContext(), options: options).run()
                return 0
            }
        }
    }
}

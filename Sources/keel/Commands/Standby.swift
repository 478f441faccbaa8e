import ArgumentParser
import KeelCore
import KeelOps

/// `keel standby clone|register|unregister|promote|follow`.
struct Standby: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Clone, register, unregister, promote standbys and make them follow a new upstream.",
                                                    subcommands: [Clone.self, Register.self, Unregister.self, Promote.self, Follow.self])

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
                --dry-run checks and prints what would be done.
                """)
        @OptionGroup var global: GlobalOptions

        func execute() async throws {
            try await perform { _ = try await StandbyPromote(context: try global.makeContext()).run(); return 0 }
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
}

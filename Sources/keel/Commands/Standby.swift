import ArgumentParser
import KeelCore
import KeelOps

/// `keel standby clone|register|unregister`.
struct Standby: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Clone, register and unregister standbys.",
                                                    subcommands: [Clone.self, Register.self, Unregister.self])

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
}

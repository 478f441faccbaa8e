import ArgumentParser
import KeelCore
import KeelOps

/// `keel primary register|unregister`.
struct Primary: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "primary", abstract: "Register or unregister the primary.",
                                                    subcommands: [Register.self, Unregister.self])

    struct Register: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "register", abstract: "Create the metadata schema and register this node as the primary.")
        @OptionGroup var global: GlobalOptions

        func execute() async throws {
            try await perform { try await PrimaryRegister(context: try global.makeContext()).run(); return 0 }
        }
    }

    struct Unregister: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "unregister", abstract: "Remove an inactive primary's record (--force for an active primary without standbys).")
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("node-id"), help: "Node to unregister (default: this node).") var nodeID: Int?

        func validate() throws { try NodeIDOption.check(nodeID) }

        func execute() async throws {
            try await perform { try await NodeUnregister(context: try global.makeContext(), type: .primary, nodeID: nodeID).run(); return 0 }
        }
    }
}

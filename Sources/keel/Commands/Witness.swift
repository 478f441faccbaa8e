import ArgumentParser
import KeelCore
import KeelOps

/// `keel witness register|unregister`.
struct Witness: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "witness", abstract: "Register and unregister a witness.",
                                                    subcommands: [Register.self, Unregister.self])

    struct Register: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "register", abstract: "Register this node as a witness of the primary given with -h/-p.")
        @OptionGroup var global: GlobalOptions

        func execute() async throws {
            try await perform { try await WitnessRegister(context: try global.makeContext()).run(); return 0 }
        }
    }

    struct Unregister: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "unregister", abstract: "Remove a witness's record.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("node-id"), help: "Node to unregister (default: this node).") var nodeID: Int?

        func validate() throws { try NodeIDOption.check(nodeID) }

        func execute() async throws {
            try await perform { try await NodeUnregister(context: try global.makeContext(), type: .witness, nodeID: nodeID).run(); return 0 }
        }
    }
}

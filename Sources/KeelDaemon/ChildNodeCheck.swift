#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import KeelCore
import KeelOps
import KeelPostgres

/// The primary's child node monitoring (`child_nodes_*` keys): which standbys (and, optionally, the
/// witness) are attached, the `child_node_*` events, and `child_nodes_disconnect_command`.
struct ChildNodeCheck {
    let runtime: DaemonRuntime

    func run(local: Connection, nodes: [NodeRecord], tracker: inout ChildNodeTracker, now: Double) async {
        let config = runtime.config
        let includeWitness = config.bool("child_nodes_connected_include_witness")
        let names = Set(((try? local.query("SELECT application_name FROM pg_catalog.pg_stat_replication")) ?? []).compactMap { $0.string("application_name") })
        let children = nodes.filter { $0.upstreamNodeID == config.nodeID && $0.active && ($0.type == .standby || (includeWitness && $0.type == .witness)) }
            .map { node in
                ChildNodeTracker.Child(nodeID: node.nodeID, name: node.nodeName,
                                       attached: node.type == .witness ? runtime.ping(node.conninfo) == .ok : names.contains(node.nodeName))
            }
        for action in tracker.observe(now: now, children: children) {
            switch action {
            case .event(let name, let nodeID, let details):
                runtime.logger.notice("\(details)")
                runtime.event(name, details: details, on: local, primary: nodes.first { $0.nodeID == nodeID })
            case .runDisconnectCommand(let details):
                runtime.logger.warning("\(details)")
                let hook = Hook(.childNodesDisconnect, in: config)
                guard hook != .none else { continue }
                let outcome = await runtime.hooks.run(.childNodesDisconnect, hook: hook, context: runtime.opsContext(),
                                                      luaContext: HookContext.childNodesDisconnect(config: config, details: details),
                                                      shellTimeout: 60)
                let result = switch outcome.kind {
                case .shell: "child_nodes_disconnect_command exited with \(outcome.status ?? -1)"
                default: outcome.succeeded ? "child_nodes_disconnect_command (\(hook)) succeeded" : (outcome.reason ?? "failed")
                }
                runtime.event(.childNodesDisconnectCommand, success: outcome.succeeded, details: "\(details); \(result)", on: local)
            }
        }
    }
}

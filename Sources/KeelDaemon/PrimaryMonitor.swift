#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelOps
import KeelPostgres

/// keeld on the primary: watches its own server and its child nodes (`child_nodes_*` keys), and detects
/// that it is a *former* primary — another registered node runs as primary on a later timeline — in which
/// case it records the fact once and never acts as the cluster's primary (no child-node actions).
struct PrimaryMonitor {
    let runtime: DaemonRuntime
    let heartbeat: Heartbeat

    /// Runs until the local server is no longer a primary (returns) or keeld stops (throws CancellationError).
    func run(local initial: Connection) async throws {
        var local = initial
        let config = runtime.config
        let log = runtime.logger
        _ = try? Migrator(connection: local).migrate()
        var tracker = ChildNodeTracker(settings: .init(config: config))
        var nextChildCheck = runtime.now
        var nextFormerCheck = runtime.now
        var formerPrimaryOf: Int?
        log.notice("monitoring cluster primary \"\(config.nodeName)\" (ID: \(config.nodeID))")
        while true {
            let config = runtime.config
            guard local.isOK, (try? local.query("SELECT 1")) != nil else {
                local = try await reconnectLocal()
                continue
            }
            guard let info = try? ServerInfo.read(local) else { continue }
            if info.isInRecovery {
                log.notice("local node \"\(config.nodeName)\" is now a standby")
                return
            }
            let store = MetadataStore(connection: local)
            let nodes = (try? store.nodes()) ?? []
            let paused = (try? store.isPaused(nodeID: config.nodeID)) ?? false
            let now = runtime.now
            if now >= nextFormerCheck {
                nextFormerCheck = now + Double(max(config.int("child_nodes_check_interval"), config.monitorIntervalSecs))
                if let newer = newerPrimary(nodes: nodes, myTimeline: info.timeline), formerPrimaryOf != newer.0.nodeID {
                    formerPrimaryOf = newer.0.nodeID
                    log.error("this node is a former primary: \(newer.0.nodeLabel) is the primary on timeline \(newer.2); keeld will not act as primary",
                              metadata: ["hint": "rejoin this node as a standby with \"keel node rejoin\""])
                    runtime.event(.formerPrimaryDetected, success: false,
                                  details: "\(config.nodeLabel) is running as primary on timeline \(info.timeline) but \(newer.0.nodeLabel) is the primary on timeline \(newer.2)",
                                  on: newer.1)
                }
            }
            if formerPrimaryOf == nil {
                heartbeat.beat(on: local, state: paused ? "paused: primary" : "monitoring as primary", upstreamLastSeen: 0)
                if !paused, now >= nextChildCheck {
                    nextChildCheck = now + Double(config.int("child_nodes_check_interval"))
                    await checkChildren(local: local, nodes: nodes, tracker: &tracker, now: now)
                }
            }
            try await runtime.sleep(Double(config.monitorIntervalSecs))
        }
    }

    /// Another registered node that runs as a primary on a later timeline than ours.
    private func newerPrimary(nodes: [NodeRecord], myTimeline: Int) -> (NodeRecord, Connection, Int)? {
        let config = runtime.config
        for node in nodes where node.nodeID != config.nodeID && node.type != .witness {
            guard let probe = Optional(NodeProbe.probe(node, among: nodes)), probe.reachable, probe.isInRecovery == false,
                  let tli = probe.timeline, tli > myTimeline, let conn = try? Connection(conninfo: node.conninfo) else { continue }
            return (node, conn, tli)
        }
        return nil
    }

    private func checkChildren(local: Connection, nodes: [NodeRecord], tracker: inout ChildNodeTracker, now: Double) async {
        let config = runtime.config
        let includeWitness = config.bool("child_nodes_connected_include_witness")
        let names = Set(((try? local.query("SELECT application_name FROM pg_catalog.pg_stat_replication")) ?? []).compactMap { $0.string("application_name") })
        let children = nodes.filter { $0.upstreamNodeID == config.nodeID && $0.active && ($0.type == .standby || (includeWitness && $0.type == .witness)) }
            .map { node in
                ChildNodeTracker.Child(nodeID: node.nodeID, name: node.nodeName,
                                       attached: node.type == .witness ? Connection.ping(node.conninfo) == .ok : names.contains(node.nodeName))
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

    /// Waits for the local server to come back, with `repmgrd_local_disconnect` / `_reconnect` events.
    private func reconnectLocal() async throws -> Connection {
        try await LocalConnection.reconnect(runtime: runtime)
    }
}

/// Reconnecting to the local server after it went away, as repmgrd does (`repmgrd_local_disconnect`,
/// then `repmgrd_local_reconnect` when it answers again).
enum LocalConnection {
    static func reconnect(runtime: DaemonRuntime) async throws -> Connection {
        let config = runtime.config
        runtime.logger.warning("unable to connect to local \(config.nodeLabel)")
        runtime.event(.localDisconnect, success: false, details: "unable to connect to local node", on: nil)
        while true {
            try await runtime.sleep(Double(runtime.config.monitorIntervalSecs))
            if let conn = try? Connection(conninfo: runtime.config.conninfo) {
                runtime.logger.notice("reconnected to local node \"\(config.nodeName)\"")
                runtime.event(.localReconnect, details: "reconnected to local node", on: nil)
                return conn
            }
        }
    }
}

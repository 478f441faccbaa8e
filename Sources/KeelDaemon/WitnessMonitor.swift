import KeelCore
import KeelOps
import KeelPostgres

/// keeld on a witness: every monitor interval it checks that the primary it follows still answers as
/// primary; every `witness_sync_interval` seconds, and at once when that primary is lost or no longer a
/// primary (a switchover or failover), it finds the current primary among the registered nodes, names it
/// as the witness's upstream and refreshes its own copy of `repmgr.nodes` from it, so that after a
/// failover the witness's table shows the new primary (repmgrd 5.3 `monitor_streaming_witness`).
struct WitnessMonitor {
    let runtime: DaemonRuntime
    let heartbeat: Heartbeat

    func run(local initial: Connection) async throws {
        var local = initial
        var nextSync = runtime.now
        var lastPrimary: Int?
        runtime.logger.notice("monitoring as witness \"\(runtime.config.nodeName)\" (ID: \(runtime.config.nodeID))")
        while true {
            let config = runtime.config
            guard local.isOK, (try? local.query("SELECT 1")) != nil else {
                local = try await LocalConnection.reconnect(runtime: runtime)
                continue
            }
            let primary = lastPrimary.flatMap { primaryConnection(id: $0, local: local) }
            if runtime.now >= nextSync || primary == nil {
                nextSync = runtime.now + Double(config.int("witness_sync_interval"))
                sync(local: local, lastPrimary: &lastPrimary)
            } else if let primary {
                // Between refreshes, still report every monitor interval (keel service status).
                heartbeat.beat(on: primary, state: "monitoring as witness", upstreamLastSeen: 0)
            }
            try await runtime.sleep(Double(config.monitorIntervalSecs))
        }
    }

    /// A connection to registered node `id` when it answers and is not in recovery; `nil` otherwise.
    private func primaryConnection(id: Int, local: Connection) -> Connection? {
        guard let conninfo = (try? MetadataStore(connection: local).node(id: id))?.conninfo,
              let conn = runtime.tryConnect(conninfo),
              let row = try? conn.queryRow("SELECT pg_catalog.pg_is_in_recovery() AS recovery"),
              row.bool("recovery") == false else { return nil }
        return conn
    }

    private func sync(local: Connection, lastPrimary: inout Int?) {
        let store = MetadataStore(connection: local)
        let nodes = (try? store.nodes()) ?? []
        guard let (primary, conn) = PrimaryFinder.find(nodes, deadlines: runtime.deadlines) else {
            if lastPrimary != nil || nodes.isEmpty {
                runtime.logger.warning("witness: no primary is reachable; metadata not refreshed, looking again every monitor interval")
            }
            lastPrimary = nil
            return
        }
        do {
            // The witness's record names the primary of the moment as its upstream (cluster show's Upstream).
            let me = runtime.config.nodeID
            let primaryStore = MetadataStore(connection: conn)
            if let mine = try primaryStore.node(id: me), mine.upstreamNodeID != primary.nodeID {
                try primaryStore.setUpstream(nodeID: me, upstreamNodeID: primary.nodeID)
            }
            let fresh = try primaryStore.nodes()
            if fresh != nodes { try store.replaceAllNodes(fresh) }
            if lastPrimary != primary.nodeID {
                runtime.logger.notice("witness monitoring connection to primary \(primary.nodeLabel); metadata refreshed")
                lastPrimary = primary.nodeID
            }
            heartbeat.beat(on: conn, state: "monitoring as witness", upstreamLastSeen: 0)
        } catch {
            runtime.logger.warning("witness: unable to refresh metadata from \(primary.nodeLabel): \(error)")
        }
    }
}

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

/// The `ClusterPort` of a real cluster: libpq through `DaemonRuntime.connect` (every connection and query
/// bounded by `ConnectionDeadlines`), hooks with their timeouts, events through the notification queue.
/// repmgrd asks sibling repmgrds through its extension's shared memory; Keel asks the nodes' PostgreSQL.
final class PostgresClusterPort: ClusterPort {
    let runtime: DaemonRuntime
    private let heartbeat: Heartbeat
    /// Watches the upstream's connection and wakes the loop when it closes.
    let watcher: UpstreamWatcher
    private(set) var local: Connection
    private var upstreamOverride: Int?
    private var queryConnection: Connection?
    private var primaryConnection: (id: Int, connection: Connection)?
    /// The most advanced WAL position among the reachable nodes of the last election (for the validation hook).
    private var electionReferenceLSN: LSN?

    init(runtime: DaemonRuntime, heartbeat: Heartbeat, local: Connection, waker: Waker) {
        self.runtime = runtime
        self.heartbeat = heartbeat
        self.local = local
        watcher = UpstreamWatcher(waker: waker) { [runtime] in runtime.tryConnect($0) }
    }

    var settings: FailoverSettings { FailoverSettings(config: runtime.config) }

    /// Waits for the local server to answer again (`repmgrd_local_disconnect` / `_reconnect` events).
    func reconnectLocal() async throws {
        local = try await LocalConnection.reconnect(runtime: runtime)
    }

    // MARK: observing

    func localState() -> LocalState? {
        guard local.isOK, let info = try? ServerInfo.read(local) else { return nil }
        return LocalState(inRecovery: info.isInRecovery, paused: runtime.isPaused(local: local))
    }

    /// This node's record and its upstream's (the override after a follow, until the metadata says so).
    func records() -> (me: NodeRecord?, upstream: NodeRecord?) {
        let nodes = (try? MetadataStore(connection: local).nodes()) ?? []
        let me = nodes.first { $0.nodeID == runtime.config.nodeID }
        let upstreamID = upstreamOverride ?? me?.upstreamNodeID ?? nodes.first { $0.type == .primary && $0.active }?.nodeID
        if let override = upstreamOverride, me?.upstreamNodeID == override { upstreamOverride = nil }
        return (me, nodes.first { $0.nodeID == upstreamID })
    }

    private func record(_ id: Int) -> NodeRecord? {
        try? MetadataStore(connection: local).node(id: id)
    }

    /// One health check of the upstream by `connection_check_type` (repmgr 5.3: ping = PQping,
    /// connection = a new connection, query = `connection_check_query` on a kept connection).
    func checkUpstream() -> Bool {
        guard let upstream = records().upstream else { return false }
        watcher.watch(upstream.conninfo)
        guard reachable(upstream) else { return false }
        // With a consensus store, a primary that fenced itself (it lost its lease) is lost: it runs in recovery.
        guard runtime.consensus != nil, upstream.type == .primary else { return true }
        return upstreamTakesWrites(upstream)
    }

    private func reachable(_ upstream: NodeRecord) -> Bool {
        switch runtime.config.connectionCheckType {
        case .ping:
            return runtime.ping(upstream.conninfo) == .ok
        case .connection:
            return runtime.tryConnect(upstream.conninfo) != nil
        case .query:
            if queryConnection?.isOK != true { queryConnection = runtime.tryConnect(upstream.conninfo) }
            guard let conn = queryConnection, (try? conn.query(runtime.config.string("connection_check_query"))) != nil else {
                queryConnection = nil
                return false
            }
            return true
        }
    }

    func afterHealthyCheck(paused: Bool) {
        SyncStandbyManager.clearOnStandby(local, runtime: runtime)
        guard let primary = primaryConnectionForWrites() else { return }
        heartbeat.beat(on: primary.1, state: paused ? "paused: standby" : "monitoring as standby", upstreamLastSeen: 0)
        guard runtime.config.bool("monitoring_history"),
              let info = try? ServerInfo.read(local),
              let primaryLSN = try? primary.1.queryRow("SELECT pg_catalog.pg_current_wal_lsn() AS lsn")?.lsn("lsn") else { return }
        let applyTime = try? local.queryRow("SELECT pg_catalog.pg_last_xact_replay_timestamp()::text AS t")?.string("t")
        try? MetadataStore(connection: primary.1).recordMonitoringHistory(
            primaryID: primary.0.nodeID, standbyID: runtime.config.nodeID, primaryLSN: primaryLSN,
            standbyLSN: info.lsn, replayLSN: info.replayLSN, lastApplyTime: applyTime ?? nil)
    }

    /// A cached connection to the registered primary (where heartbeats, history and events are written).
    private func primaryConnectionForWrites() -> (NodeRecord, Connection)? {
        let nodes = (try? MetadataStore(connection: local).nodes()) ?? []
        guard let primary = nodes.first(where: { $0.type == .primary && $0.active }) else { return nil }
        // A new registered primary (after a failover) gets a new connection; the old one may hang on a frozen node.
        if primaryConnection?.id != primary.nodeID || primaryConnection?.connection.isOK != true {
            primaryConnection = runtime.tryConnect(primary.conninfo).map { (primary.nodeID, $0) }
        }
        guard let conn = primaryConnection?.connection else { return nil }
        return (primary, conn)
    }

    func gatherElection(now: Double) -> Result<ElectionInput, PortFailure> {
        let store = MetadataStore(connection: local)
        let nodes: [NodeRecord]
        do {
            nodes = try store.nodes()
        } catch {
            return .failure(PortFailure(reason: "unable to read the node records on the local server: \(error.message)"))
        }
        guard let me = nodes.first(where: { $0.nodeID == runtime.config.nodeID }) else {
            return .failure(PortFailure(reason: "this node (ID: \(runtime.config.nodeID)) has no record"))
        }
        guard let lost = records().upstream else { return .failure(PortFailure(reason: "the upstream has no record")) }
        let all = probe(nodes.filter { $0.nodeID != me.nodeID }, among: nodes)
        let mine = NodeProbe.probe(me, among: nodes, deadlines: runtime.deadlines, extras: NodeProbe.Extras(config: runtime.config))
        let view = { (p: NodeProbe) in p.peerView(lostPrimaryID: lost.nodeID, probes: all) }
        let term = ((try? store.votingTerm()) ?? nil) ?? 1
        electionReferenceLSN = ([mine] + all).filter { $0.reachable && $0.node.type != .witness }.compactMap(\.lastReceivedLSN).max()
        let lostProbe = all.first { $0.node.nodeID == lost.nodeID } ?? NodeProbe(node: lost, reachable: false)
        return .success(ElectionInput(now: now, me: view(mine), lostPrimary: view(lostProbe),
                                      peers: all.filter { $0.node.nodeID != lost.nodeID }.map(view), term: term))
    }

    /// Probes `targets` at once, a thread each (an unreachable node costs up to the connect deadline; a
    /// silent one, the query deadline — in parallel with the others, not after them as a pool as wide as the
    /// CPUs would have it).
    private func probe(_ targets: [NodeRecord], among nodes: [NodeRecord]) -> [NodeProbe] {
        let deadlines = runtime.deadlines
        let extras = NodeProbe.Extras(config: runtime.config)
        return concurrentMap(targets, width: max(1, targets.count), name: "keeld-probe") { node in
            NodeProbe.probe(node, among: nodes, deadlines: deadlines, extras: extras)
        }
    }

    func siblingsReceiversStopped() -> Bool {
        let nodes = (try? MetadataStore(connection: local).nodes()) ?? []
        let me = runtime.config.nodeID
        guard let upstream = records().upstream?.nodeID else { return false }
        let siblings = nodes.filter { $0.nodeID != me && $0.type == .standby && $0.active && $0.upstreamNodeID == upstream }
        return probe(siblings, among: nodes).allSatisfy { !$0.reachable || $0.streamingFrom == nil }
    }

    func primary(among ids: [Int]?, excluding: Set<Int>) -> Int? {
        let nodes = ((try? MetadataStore(connection: local).nodes()) ?? []).filter { ids?.contains($0.nodeID) ?? true }
        return PrimaryFinder.find(nodes, excluding: excluding, deadlines: runtime.deadlines)?.0.nodeID
    }

    func currentPrimaryConninfo() -> String? {
        guard let row = try? local.queryRow("SELECT pg_catalog.current_setting('primary_conninfo') AS c") else { return nil }
        return row.string("c") ?? ""
    }

    func setPrimaryConninfo(_ conninfo: String) -> Bool {
        (try? local.query("ALTER SYSTEM SET primary_conninfo = " + SQLLiteral.string(conninfo))) != nil
            && (try? local.query("SELECT pg_catalog.pg_reload_conf()")) != nil
    }


    // MARK: acting

    func log(_ level: LogLevel, _ message: String) {
        switch level {
        case .debug: runtime.logger.debug("\(message)")
        case .info: runtime.logger.info("\(message)")
        case .notice: runtime.logger.notice("\(message)")
        case .warning: runtime.logger.warning("\(message)")
        case .error: runtime.logger.error("\(message)")
        }
    }

    /// Events go to the primary of the moment (this node once promoted, else the reachable primary), row
    /// and notification both written by the notification queue's worker: finding the primary can cost a
    /// connect deadline per unreachable node, which must not delay the next reconnection attempt.
    func notify(_ event: EventName, success: Bool, details: String) {
        runtime.eventOffLoop(event, success: success, details: details, primary: records().upstream)
    }

    /// `failover_validation_command`: the shell form with `%n %a %v %u %t` (exit 0 allows the promotion),
    /// or a Lua function given the validation table (`true` allows; `false, "reason"`, an error or a
    /// timeout vetoes).
    func runValidation(_ context: ValidationContext) async -> (Bool, String?) {
        let outcome = await runtime.hooks.run(.failoverValidation, context: runtime.opsContext(),
                                              luaContext: HookContext.validation(context, referenceLSN: electionReferenceLSN),
                                              shellTimeout: 60)
        return outcome.succeeded ? (true, nil) : (false, outcome.reason ?? "failover_validation_command refused")
    }

    func promote(term: Int) async -> (Bool, String) {
        let result = await StandbyActions.promote(runtime: runtime, term: term, formerPrimary: records().upstream)
        if let connection = result.connection { local = connection }
        guard result.ok else { return (false, result.detail) }
        guard (try? ServerInfo.read(local))?.isInRecovery == false else {
            return (false, "the server is still in recovery after the promotion")
        }
        return (true, result.detail)
    }

    func follow(_ primaryID: Int) async -> (Bool, String) {
        let result = await StandbyActions.follow(runtime: runtime, primaryID: primaryID, target: record(primaryID),
                                                 formerUpstreamID: records().me?.upstreamNodeID)
        if result.0 {
            upstreamOverride = primaryID
            watcher.watch(record(primaryID)?.conninfo)
        }
        return result
    }
}

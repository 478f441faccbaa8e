import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import KeelCore
import KeelPostgres

/// The primary's probe round: every other registered node at once, each a new connection with
/// `connect_timeout` and one query, the whole round bounded by `FenceTiming.probeTimeout`. A node that
/// does not answer in time counts as unreachable; a probe still hanging (a frozen server) is not started
/// again until it returns, so a frozen node costs one waiting thread, not one per round.
final class FenceProbe: @unchecked Sendable {
    private let lock = Lock()
    private var inFlight: Set<Int> = []

    /// Probes `nodes` (the other registered nodes) within `timeout` seconds, off Swift's cooperative threads
    /// (a probe blocks in libpq); a cancelled task (keeld stopping) gets its answer within 50 ms, the nodes
    /// not heard from yet counting as unreachable.
    func round(_ nodes: [NodeRecord], timeout: Double) async -> [NodeSighting] {
        let cancelled = CancelFlag()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async { [self] in
                    continuation.resume(returning: roundBlocking(nodes, timeout: timeout, cancelled: cancelled))
                }
            }
        } onCancel: {
            cancelled.set()
        }
    }

    private func roundBlocking(_ nodes: [NodeRecord], timeout: Double, cancelled: CancelFlag) -> [NodeSighting] {
        let results = Results()
        let group = DispatchGroup()
        for node in nodes {
            let started = lock.withLock { inFlight.insert(node.nodeID).inserted }
            guard started else { continue }
            group.enter()
            DispatchQueue.global().async { [self] in
                let sighting = Self.probe(node, timeout: timeout)
                lock.withLock { _ = inFlight.remove(node.nodeID) }
                results.add(sighting)
                group.leave()
            }
        }
        let deadline = DispatchTime.now() + .milliseconds(Int(timeout * 1000) + 250)
        while group.wait(timeout: min(deadline, .now() + .milliseconds(50))) == .timedOut, DispatchTime.now() < deadline,
              !cancelled.isSet {}
        let answered = results.values
        return nodes.map { node in
            answered.first { $0.nodeID == node.nodeID } ?? NodeSighting(nodeID: node.nodeID, name: node.nodeName, type: node.type)
        }
    }

    /// One node: recovery state, timeline, voting term.
    static func probe(_ node: NodeRecord, timeout: Double) -> NodeSighting {
        var sighting = NodeSighting(nodeID: node.nodeID, name: node.nodeName, type: node.type)
        // Connect and every query bounded by `timeout` on the client's clock (a frozen node never answers).
        let deadlines = ConnectionDeadlines(monitorInterval: timeout, reconnectInterval: timeout)
        guard let conn = try? Connection(conninfo: node.conninfo, deadlines: deadlines),
              let row = try? conn.queryRow("""
                SELECT pg_catalog.pg_is_in_recovery() AS recovery,
                       CASE WHEN pg_catalog.pg_is_in_recovery()
                            THEN GREATEST((SELECT timeline_id FROM pg_catalog.pg_control_checkpoint()),
                                          (SELECT received_tli FROM pg_catalog.pg_stat_wal_receiver))
                            ELSE ('x' || substr(pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()), 1, 8))::bit(32)::int
                       END AS timeline
                """) else { return sighting }
        sighting.reachable = true
        sighting.isInRecovery = row.bool("recovery")
        sighting.timeline = row.int("timeline")
        sighting.term = (try? MetadataStore(connection: conn).votingTerm()) ?? nil
        return sighting
    }

    /// The primary's own view for `IsolationRule`: itself, and every other node with `reachable` = answered.
    static func views(me: NodeRecord, nodes: [NodeRecord], sightings: [NodeSighting]) -> (PeerView, [PeerView]) {
        func view(_ node: NodeRecord, reachable: Bool) -> PeerView {
            PeerView(nodeID: node.nodeID, name: node.nodeName, type: node.type, upstreamNodeID: node.upstreamNodeID,
                     location: node.location, priority: node.priority, active: node.active, reachable: reachable)
        }
        let peers = nodes.filter { $0.nodeID != me.nodeID }.map { node in
            view(node, reachable: sightings.first { $0.nodeID == node.nodeID }?.reachable ?? false)
        }
        return (view(me, reachable: true), peers)
    }
}

/// Sightings reported by the probe threads.
private final class Results: @unchecked Sendable {
    private let lock = Lock()
    private var items: [NodeSighting] = []
    func add(_ s: NodeSighting) { lock.withLock { items.append(s) } }
    var values: [NodeSighting] { lock.withLock { items } }
}

/// Set once, from a task's cancellation handler; read by the blocking probe round.
private final class CancelFlag: @unchecked Sendable {
    private let lock = Lock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

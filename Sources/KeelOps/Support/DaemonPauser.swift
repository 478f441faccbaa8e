#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelDCS
import KeelPostgres

/// Pauses every node's keeld for the duration of a switchover and unpauses it after, as repmgr 5.3's
/// `standby switchover` does with `repmgrd_pause()` on every node (unless `--repmgrd-no-pause`): the flag is
/// `repmgr.keel_daemon.paused` on the primary (`ServicePause`). Only when some keeld runs (heartbeat at most
/// 3 × `monitor_interval_secs`, and 10 s, old); nodes that were paused already stay paused afterwards. With a
/// consensus store (`dcs`) the nodes' pause keys in etcd are written too (keeld reads them first: `PauseRule`).
public struct DaemonPauser {
    /// This node's context.
    public let context: OpsContext

    /// Makes the helper.
    public init(context: OpsContext) { self.context = context }

    /// The nodes to pause (pure): those of `nodes` not already paused in `daemons`, or none when no daemon in
    /// `daemons` is running (`freshSeconds`: the heartbeat age that still counts as running).
    public static func toPause(nodes: [NodeRecord], daemons: [DaemonRecord], freshSeconds: Double) -> [Int] {
        let running = daemons.contains { $0.pid != nil && ($0.secondsSinceHeartbeat ?? .infinity) <= freshSeconds }
        guard running else { return [] }
        let paused = Set(daemons.filter(\.paused).map(\.nodeID))
        return nodes.map(\.nodeID).filter { !paused.contains($0) }
    }

    /// The node IDs this switchover would pause, read on `primary` (empty without running daemons).
    /// Throws `KeelError` 7 when the daemon table cannot be read.
    public func planned(primary: Connection, nodes: [NodeRecord]) throws -> [Int] {
        var daemons = try context.query { try MetadataStore(connection: primary).daemonRecords() }
        if let dcs = DCSSettings(config: context.config) {
            let flags = Dictionary(daemons.map { ($0.nodeID, $0.paused) }, uniquingKeysWith: { a, _ in a })
            let paused = PauseKeys.effective(metadata: flags, store: EtcdStore(dcs), settings: dcs).paused
            for i in daemons.indices { daemons[i].paused = paused[daemons[i].nodeID] ?? daemons[i].paused }
        }
        let fresh = Double(max(3 * context.config.monitorIntervalSecs, 10))
        return Self.toPause(nodes: nodes, daemons: daemons, freshSeconds: fresh)
    }

    /// Pauses `ids` on `primary`, then waits (up to 10 s) until every reachable standby among `nodes` has
    /// replayed the change, so that no standby's keeld starts a failover when the primary stops.
    /// Throws `KeelError` 18 when the flag cannot be set.
    public func pause(_ ids: [Int], primary: Connection, nodes: [NodeRecord]) async throws {
        guard !ids.isEmpty else { return }
        do {
            try MetadataStore(connection: primary).setPaused(true, nodeIDs: ids)
            try writeKeys(true, ids)
        } catch {
            _ = try? MetadataStore(connection: primary).setPaused(false, nodeIDs: ids)
            try? writeKeys(false, ids)
            throw KeelError(.switchoverFailed, "unable to pause keeld on the nodes", detail: "\(error)",
                            hint: "pause them with \"keel service pause\", or stop keeld, and run the switchover again")
        }
        context.logger.notice("keeld paused on node(s) \(ids.map(String.init).joined(separator: ", ")) for the switchover")
        guard let lsn = try? primary.queryRow("SELECT pg_catalog.pg_current_wal_lsn() AS l")?.lsn("l") else { return }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(10))
        for node in nodes where node.type == .standby {
            guard let conn = try? Connection(conninfo: node.conninfo) else { continue }
            while clock.now < deadline {
                if let replayed = try? conn.queryRow("SELECT pg_catalog.pg_last_wal_replay_lsn() AS l")?.lsn("l"), replayed >= lsn { break }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Unpauses `ids` on `primary` (and in etcd with `dcs`); a failure is a warning naming the command to run.
    public func unpause(_ ids: [Int], primary: Connection?) {
        guard !ids.isEmpty else { return }
        do {
            guard let primary else { throw KeelError(.dbConnection, "no primary reachable") }
            try MetadataStore(connection: primary).setPaused(false, nodeIDs: ids)
            try writeKeys(false, ids)
            context.logger.notice("keeld unpaused on node(s) \(ids.map(String.init).joined(separator: ", "))")
        } catch {
            context.logger.warning("unable to unpause keeld: \(error)", metadata: ["hint": "run \"keel service unpause\""])
        }
    }

    /// With `dcs`: the pause keys of `ids` in etcd. Throws `DCSError` naming etcd and the endpoints tried.
    private func writeKeys(_ paused: Bool, _ ids: [Int]) throws {
        guard let dcs = DCSSettings(config: context.config) else { return }
        do {
            try PauseKeys.write(paused, nodeIDs: ids, store: EtcdStore(dcs), settings: dcs)
        } catch {
            throw DCSError("etcd: \(error)")
        }
    }
}

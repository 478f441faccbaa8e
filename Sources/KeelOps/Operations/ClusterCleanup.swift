import KeelCore
import KeelPostgres

/// `keel cluster cleanup [-k|--keep-history DAYS] [--node-id N]`: deletes old `repmgr.monitoring_history`
/// rows on the primary. Event `cluster_cleanup`. Source: repmgr 5.3 `do_cluster_cleanup`.
public struct ClusterCleanup {
    public let context: OpsContext
    public let keepDays: Int
    public let nodeID: Int?

    public init(context: OpsContext, keepDays: Int, nodeID: Int?) {
        self.context = context
        self.keepDays = keepDays
        self.nodeID = nodeID
    }

    /// Throws `KeelError` 6 when no primary is reachable, 7 when the delete fails.
    public func run() async throws {
        let local = try context.connectLocal()
        let (primary, _) = try context.connectPrimary(via: local)
        if context.dryRun {
            context.logger.info("would delete monitoring history older than \(keepDays) day(s)\(nodeID.map { " for node \($0)" } ?? "")")
            return
        }
        let deleted = try context.query { try MetadataStore(connection: primary).cleanupMonitoringHistory(keepDays: keepDays, nodeID: nodeID) }
        await EventWriter(context: context).record(.clusterCleanup, details: "\(deleted) monitoring history records deleted", on: primary)
        context.logger.notice("\(deleted) monitoring history records deleted")
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres

/// `keel cluster matrix [--csv]` and `keel cluster crosscheck [--csv]`: who can connect to whom, as repmgr
/// 5.3's `do_cluster_matrix` / `do_cluster_crosscheck`. matrix: this node's row comes from connecting to
/// every registered node; each other node that answers runs `keel cluster show --csv` (`RemoteCommand`:
/// over ssh, or locally when it is on this host) and gives its row. crosscheck: every node runs
/// `keel cluster matrix --csv` and the views are merged cell by cell (`ConnectivityMatrix.merged`).
/// Exit status: 25 when some node could not reach another, else 12 when some node's view could not be
/// obtained (ssh or keel failed), else 0.
public struct ClusterMatrix {
    /// This node's configuration, logger and output format (`--csv`).
    public let context: OpsContext
    /// True for `cluster crosscheck`.
    public let crosscheck: Bool
    /// `-R/--remote-user` for ssh.
    public let remoteUser: String?

    /// Makes the operation.
    public init(context: OpsContext, crosscheck: Bool, remoteUser: String? = nil) {
        self.context = context
        self.crosscheck = crosscheck
        self.remoteUser = remoteUser
    }

    /// Builds, prints and returns the exit status. Throws `KeelError` 6 when this node cannot be reached, 1
    /// when no node is registered.
    public func run() async throws -> ExitStatus {
        let local = try context.connectLocal()
        let nodes = try context.query { try MetadataStore(connection: local).nodes() }
        guard !nodes.isEmpty else { throw KeelError(.badConfig, "unable to retrieve any node records") }
        let (matrix, remoteFailed) = crosscheck ? await buildCrosscheck(nodes) : await buildMatrix(nodes)
        context.output(context.format == .csv ? matrix.renderCSV() : matrix.renderText())
        let status = matrix.exitStatus(remoteFailed: remoteFailed)
        if status == .badSSH { context.logger.warning("the view of some node(s) could not be obtained (\"?\" entries)") }
        return status
    }

    static func matrixNodes(_ nodes: [NodeRecord]) -> [ConnectivityMatrix.Node] {
        nodes.map { ConnectivityMatrix.Node(id: $0.nodeID, name: $0.nodeName) }
    }

    /// This node's matrix; the flag is true when some reachable node's `cluster show` could not be run.
    func buildMatrix(_ nodes: [NodeRecord]) async -> (ConnectivityMatrix, Bool) {
        let me = context.config.nodeID
        var matrix = ConnectivityMatrix(nodes: Self.matrixNodes(nodes))
        var failed = false
        for node in nodes {
            let reachable = (try? Connection(conninfo: node.conninfo)) != nil
            matrix[me, node.nodeID] = reachable ? .ok : .failed
            guard reachable, node.nodeID != me else { continue }
            let remote = RemoteCommand(node: node, config: context.config, remoteUser: remoteUser)
            context.logger.debug("executing: \(Conninfo.masked(remote.display(["cluster", "show", "--csv"])))")
            // cluster show exits 25 when it finds an issue; its CSV is what counts.
            if let result = try? await remote.run(["cluster", "show", "--csv"], timeout: 120),
               matrix.applyClusterShowCSV(from: node.nodeID, result.stdout) {
                continue
            }
            context.logger.warning("unable to obtain the view of \(node.nodeLabel)")
            failed = true
        }
        return (matrix, failed)
    }

    /// Every node's matrix merged; the flag is true when some node's matrix could not be obtained.
    func buildCrosscheck(_ nodes: [NodeRecord]) async -> (ConnectivityMatrix, Bool) {
        let me = context.config.nodeID
        let matrixNodes = Self.matrixNodes(nodes)
        var views: [ConnectivityMatrix] = []
        var failed = false
        for node in nodes {
            if node.nodeID == me {
                let (own, ownFailed) = await buildMatrix(nodes)
                views.append(own)
                failed = failed || ownFailed
                continue
            }
            let remote = RemoteCommand(node: node, config: context.config, remoteUser: remoteUser)
            context.logger.debug("executing: \(Conninfo.masked(remote.display(["cluster", "matrix", "--csv"])))")
            guard let result = try? await remote.run(["cluster", "matrix", "--csv"], timeout: 300),
                  let cells = ConnectivityMatrix.parseMatrixCSV(result.stdout), !cells.isEmpty else {
                context.logger.warning("unable to obtain the matrix of \(node.nodeLabel)")
                failed = true
                continue
            }
            var view = ConnectivityMatrix(nodes: matrixNodes)
            for cell in cells { view[cell.source, cell.target] = cell.cell }
            views.append(view)
        }
        return (ConnectivityMatrix.merged(views, nodes: matrixNodes), failed)
    }
}

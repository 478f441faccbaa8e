import KeelCore
import KeelPostgres

/// `keel primary|standby|witness unregister [--node-id N]`: removes a node's row from the primary's
/// metadata and records `<type>_unregister`. Source: repmgr 5.3 `do_primary_unregister`,
/// `do_standby_unregister`, `do_witness_unregister`.
public struct NodeUnregister {
    public let context: OpsContext
    /// The type of node the command was given for (`standby unregister` only removes standbys).
    public let type: NodeType
    /// `--node-id`; this node when `nil`.
    public let nodeID: Int?

    public init(context: OpsContext, type: NodeType, nodeID: Int?) {
        self.context = context
        self.type = type
        self.nodeID = nodeID
    }

    /// Throws `KeelError`: 6 when no primary is reachable, 1 when the node is not registered or is not of
    /// `type`, or when it is an active primary that still has standbys attached (without `--force`).
    public func run() async throws {
        let id = nodeID ?? context.config.nodeID
        let primary = try connectToPrimary()
        let store = MetadataStore(connection: primary)
        guard let record = try context.query({ try store.node(id: id) }) else {
            throw KeelError(.badConfig, "node \(id) is not registered")
        }
        guard record.type == type else {
            throw KeelError(.badConfig, "node \"\(record.nodeName)\" (ID: \(id)) is a \(record.type.rawValue), not a \(type.rawValue)",
                            hint: "use \"keel \(record.type.rawValue) unregister\"")
        }
        if type == .primary {
            let children = try context.query { try store.nodes() }.filter { $0.upstreamNodeID == id && $0.active }
            if record.active, !context.force {
                throw KeelError(.badConfig, "node \"\(record.nodeName)\" (ID: \(id)) is the active primary",
                                hint: "use -F/--force to unregister an active primary without standbys")
            }
            if !children.isEmpty {
                throw KeelError(.badConfig, "node \"\(record.nodeName)\" (ID: \(id)) has \(children.count) registered downstream node(s)",
                                detail: "downstream: " + children.map { "\"\($0.nodeName)\" (ID: \($0.nodeID))" }.joined(separator: ", "))
            }
        }
        if context.dryRun {
            context.logger.info("would unregister \(type.rawValue) node \"\(record.nodeName)\" (ID: \(id))")
            return
        }
        if type == .witness {
            // The witness keeps its own copy of the metadata: remove its record there too when it is reachable.
            if let witness = try? Connection(conninfo: record.conninfo) {
                _ = try? MetadataStore(connection: witness).deleteNode(id: id)
            }
        }
        try context.query { _ = try store.deleteNode(id: id) }
        let event: EventName = switch type {
        case .primary: .primaryUnregister
        case .witness: .witnessUnregister
        default: .standbyUnregister
        }
        await EventWriter(context: context).record(event, details: "node \(id) unregistered", on: primary, nodeID: id)
        context.logger.notice("\(type.rawValue) node \"\(record.nodeName)\" (ID: \(id)) was unregistered")
    }

    /// The primary: `-h/-d` when given, else found through this node's metadata.
    private func connectToPrimary() throws -> Connection {
        if !context.remote.isEmpty {
            let conninfo = try context.remote.conninfo(defaultsFrom: context.config.conninfo)
            return try context.connect(conninfo, what: "primary at \"\(Conninfo.masked(conninfo))\"")
        }
        let local = try context.connectLocal()
        return try context.connectPrimary(via: local).0
    }
}

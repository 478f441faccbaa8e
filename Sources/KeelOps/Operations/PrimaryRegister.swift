import KeelCore
import KeelPostgres

/// `keel primary register [--force] [--dry-run]`: creates the metadata schema on this node (plain SQL
/// migrations) and writes its `repmgr.nodes` row as the primary. Events `cluster_created` (first time the
/// schema is created) and `primary_register`. Source: repmgr 5.3 `do_primary_register`.
public struct PrimaryRegister {
    public let context: OpsContext

    public init(context: OpsContext) { self.context = context }

    /// Throws `KeelError`: 6 when this node is unreachable, 1 when it is a standby, a different active primary
    /// is registered, or this node id is already registered (without `--force`), 7 on a failed statement.
    public func run() async throws {
        let config = context.config
        let log = context.logger
        let conn = try context.connectLocal()
        let info = try context.query { try ServerInfo.read(conn) }
        if info.isInRecovery {
            throw KeelError(.badConfig, "server is in standby mode and cannot be registered as a primary",
                            hint: "use \"keel standby register\" to register a standby")
        }
        let migrator = Migrator(connection: conn)
        let schemaExisted = try context.query { try migrator.schemaExists() }
        if schemaExisted {
            let store = MetadataStore(connection: conn)
            if let existing = try context.query({ try store.primary() }), existing.nodeID != config.nodeID {
                throw KeelError(.badConfig, "there is already an active registered primary (ID: \(existing.nodeID)) in this cluster",
                                detail: "node \"\(existing.nodeName)\" is registered as the primary",
                                hint: "unregister the existing primary first or mark it inactive")
            }
            if let existing = try context.query({ try store.node(id: config.nodeID) }), !context.force {
                throw KeelError(.badConfig, "this node (ID: \(config.nodeID)) is already registered",
                                detail: "registered as \(existing.type.rawValue) \"\(existing.nodeName)\"",
                                hint: "use -F/--force to overwrite the existing node record")
            }
            if let other = try context.query({ try store.node(named: config.nodeName) }), other.nodeID != config.nodeID {
                throw KeelError(.badConfig, "node name \"\(config.nodeName)\" is already used by node ID \(other.nodeID)")
            }
        }
        if context.dryRun {
            log.info("prerequisites for registering the primary are met")
            log.info(schemaExisted ? "the metadata schema \"repmgr\" exists and would be used as it is"
                                   : "the metadata schema \"repmgr\" would be created")
            log.info("would register \(config.nodeLabel) as the primary")
            return
        }
        let applied = try context.query { try migrator.migrate() }
        if !applied.isEmpty { log.notice("metadata schema migrated to version \(applied.last!)") }
        let record = NodeRecord(nodeID: config.nodeID, upstreamNodeID: nil, active: true, nodeName: config.nodeName, type: .primary,
                                location: config.location, priority: config.priority, conninfo: config.conninfo,
                                replicationUser: context.replicationUser,
                                slotName: config.useReplicationSlots ? NodeRecord.slotName(for: config.nodeID) : nil,
                                configFile: context.configFile)
        try context.query { try MetadataStore(connection: conn).upsert(record) }
        let events = EventWriter(context: context)
        if !schemaExisted {
            await events.record(.clusterCreated, details: "", on: conn)
        }
        await events.record(.primaryRegister, details: "", on: conn)
        log.notice("primary node record (ID: \(config.nodeID)) registered")
    }
}

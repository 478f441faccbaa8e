import KeelCore
import KeelPostgres

/// `keel witness register -h PRIMARY_HOST [-p PORT] [--force] [--dry-run]`: registers this node — a separate
/// PostgreSQL instance outside the replication cluster — as a witness: its row on the primary, the metadata
/// schema and a copy of `repmgr.nodes` on the witness itself. Event `witness_register`.
/// Source: repmgr 5.3 `do_witness_register`.
public struct WitnessRegister {
    public let context: OpsContext

    public init(context: OpsContext) { self.context = context }

    /// Throws `KeelError`: 1 without `-h`, when the witness is a standby or shares the primary's system
    /// identifier, or its node id is taken (without `--force`); 6 when either server is unreachable.
    public func run() async throws {
        let config = context.config
        let log = context.logger
        guard !context.remote.isEmpty else {
            throw KeelError(.badConfig, "no primary connection parameters provided", hint: "use -h/--host (and -p, -U, -d) to name the primary")
        }
        let witness = try context.connectLocal()
        let witnessInfo = try context.query { try ServerInfo.read(witness) }
        guard !witnessInfo.isInRecovery else {
            throw KeelError(.badConfig, "the witness server at \"\(Conninfo.masked(config.conninfo))\" is in recovery",
                            hint: "a witness must be a separate, writable PostgreSQL instance")
        }
        let primaryConninfo = try context.remote.conninfo(defaultsFrom: config.conninfo)
        let primary = try context.connect(primaryConninfo, what: "primary node")
        let primaryInfo = try context.query { try ServerInfo.read(primary) }
        guard !primaryInfo.isInRecovery else {
            throw KeelError(.badConfig, "the node at \"\(Conninfo.masked(primaryConninfo))\" is not a primary (it is in recovery)",
                            hint: "give the primary's address with -h/-p")
        }
        guard primaryInfo.systemIdentifier != witnessInfo.systemIdentifier else {
            throw KeelError(.badConfig, "witness and primary have the same system identifier (\(witnessInfo.systemIdentifier))",
                            detail: "the witness server is part of the replication cluster (or is the primary itself)",
                            hint: "a witness must be a separate PostgreSQL instance created with initdb")
        }
        let store = MetadataStore(connection: primary)
        guard try context.query({ try Migrator(connection: primary).schemaExists() }),
              let primaryRecord = try context.query({ try store.primary() }) else {
            throw KeelError(.badConfig, "no registered primary found at \"\(Conninfo.masked(primaryConninfo))\"",
                            hint: "register the primary first with \"keel primary register\"")
        }
        if let existing = try context.query({ try store.node(id: config.nodeID) }) {
            if existing.type != .witness {
                throw KeelError(.badConfig, "node ID \(config.nodeID) is already registered as a \(existing.type.rawValue) (\"\(existing.nodeName)\")")
            }
            if !context.force {
                throw KeelError(.badConfig, "witness node ID \(config.nodeID) is already registered",
                                hint: "use -F/--force to overwrite the existing node record")
            }
        }
        if let other = try context.query({ try store.node(named: config.nodeName) }), other.nodeID != config.nodeID {
            throw KeelError(.badConfig, "node name \"\(config.nodeName)\" is already used by node ID \(other.nodeID)")
        }
        if context.dryRun {
            log.info("prerequisites for registering the witness are met")
            log.info("would register witness \"\(config.nodeName)\" (ID: \(config.nodeID)) with primary \"\(primaryRecord.nodeName)\" and copy its metadata")
            return
        }
        try context.query { _ = try Migrator(connection: witness).migrate() }
        let record = NodeRecord(nodeID: config.nodeID, upstreamNodeID: primaryRecord.nodeID, active: true, nodeName: config.nodeName,
                                type: .witness, location: config.location, priority: 0, conninfo: config.conninfo,
                                replicationUser: context.replicationUser, slotName: nil, configFile: context.configFile)
        try context.query { try store.upsert(record) }
        let nodes = try context.query { try store.nodes() }
        try context.query { try MetadataStore(connection: witness).replaceAllNodes(nodes) }
        await EventWriter(context: context).record(.witnessRegister, details: "witness registration succeeded; upstream node ID is \(primaryRecord.nodeID)",
                                                   on: primary, primary: primaryRecord)
        log.notice("witness registration complete")
    }
}

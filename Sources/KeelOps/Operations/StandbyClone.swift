import Foundation
import KeelCore
import KeelPostgres

/// `keel standby clone -h HOST [-p PORT] [-U USER] [-d DB] [--upstream-node-id N] [-c|--fast-checkpoint]
/// [--dry-run] [--force]`: copies the source node with `pg_basebackup -X stream` into `data_directory` and
/// writes PostgreSQL 12+ standby configuration (`standby.signal`, `primary_conninfo` with
/// `application_name` = `node_name`, `primary_slot_name` when `use_replication_slots`). Event
/// `standby_clone`. Source: repmgr 5.3 `do_standby_clone` and its dry-run checks.
public struct StandbyClone {
    public struct Options: Sendable {
        public var upstreamNodeID: Int?
        public var fastCheckpoint: Bool
        public var pgBindir: String?
        public init(upstreamNodeID: Int? = nil, fastCheckpoint: Bool = false, pgBindir: String? = nil) {
            self.upstreamNodeID = upstreamNodeID
            self.fastCheckpoint = fastCheckpoint
            self.pgBindir = pgBindir
        }
    }

    public let context: OpsContext
    public let options: Options

    public init(context: OpsContext, options: Options) {
        self.context = context
        self.options = options
    }

    /// Throws `KeelError`: 1 for a missing source or an occupied data directory, 6 when the source is
    /// unreachable (also for replication connections), 14 when pg_basebackup fails.
    public func run() async throws {
        let config = context.config
        let log = context.logger
        guard !context.remote.isEmpty else {
            throw KeelError(.badConfig, "no source host provided", hint: "use -h/--host (and -p, -U, -d) to name the node to clone from")
        }
        let sourceConninfo = try context.remote.conninfo(defaultsFrom: config.conninfo)
        let source = try context.connect(sourceConninfo, what: "source node")
        log.info("connected to source node, checking its state")
        let info = try context.query { try ServerInfo.read(source) }
        guard info.versionNumber >= 120000 else {
            throw KeelError(.badConfig, "source server is PostgreSQL \(info.version); Keel needs PostgreSQL 12 or later")
        }
        let store = MetadataStore(connection: source)
        guard try context.query({ try Migrator(connection: source).schemaExists() }) else {
            throw KeelError(.badConfig, "no metadata found on the source node",
                            hint: "register the primary first with \"keel primary register\"")
        }
        let upstream = try resolveUpstream(store: store)
        log.info("upstream node is \"\(upstream.nodeName)\" (ID: \(upstream.nodeID))")

        // The source must belong to the upstream's cluster (not a witness or an unrelated server).
        let upstreamConnection = try context.connect(upstream.conninfo, what: "upstream \(upstream.nodeLabel)")
        let upInfo = try context.query { try ServerInfo.read(upstreamConnection) }
        guard upInfo.systemIdentifier == info.systemIdentifier else {
            throw KeelError(.badConfig, "the source node is not part of the cluster of upstream \(upstream.nodeLabel)",
                            detail: "source \"\(Conninfo.masked(sourceConninfo))\" has system identifier \(info.systemIdentifier), the upstream \(upInfo.systemIdentifier)",
                            hint: "clone from the primary or from a standby of this cluster (a witness cannot be cloned)")
        }
        // Data directory checks.
        let dataDir = DataDirectory(config.dataDirectory)
        if let problem = dataDir.unusableReason {
            throw KeelError(.badConfig, "data directory \"\(config.dataDirectory)\" cannot be used", detail: problem)
        }
        if let pid = dataDir.runningPostmasterPID {
            throw KeelError(.badConfig, "a PostgreSQL server is running in the data directory \"\(config.dataDirectory)\" (PID \(pid))",
                            hint: "stop it before cloning over it")
        }
        if !dataDir.isEmpty {
            if context.force {
                log.warning("data directory \"\(config.dataDirectory)\" is not empty and will be overwritten (-F/--force)")
            } else {
                throw KeelError(.badConfig, "target data directory \"\(config.dataDirectory)\" exists and is not empty",
                                hint: "use -F/--force to overwrite it, or choose another data_directory")
            }
        }
        // Walsenders: pg_basebackup -X stream uses two.
        let freeSenders = info.maxWalSenders - info.walSendersInUse
        guard freeSenders >= 2 else {
            throw KeelError(.badConfig, "insufficient free walsenders on the source node",
                            detail: "\(freeSenders) free of max_wal_senders = \(info.maxWalSenders); pg_basebackup -X stream needs 2",
                            hint: "increase \"max_wal_senders\" on the source node")
        }
        log.info("\(freeSenders) free walsenders on the source node (max_wal_senders = \(info.maxWalSenders))")
        // A replication connection as the replication user.
        let replicationConninfo = ReplicationProbe.replicationConninfo(sourceConninfo, replicationUser: context.replicationUser)
        let replication = try context.connect(replicationConninfo, what: "source node (replication connection)")
        _ = try context.query { try replication.simpleQuery("IDENTIFY_SYSTEM") }
        log.info("replication connection to the source node as user \"\(context.replicationUser)\" is possible")
        let slotName = NodeRecord.slotName(for: config.nodeID)
        var slotExisted = false
        if config.useReplicationSlots {
            let slot = try context.query {
                try upstreamConnection.queryRow("SELECT active FROM pg_catalog.pg_replication_slots WHERE slot_name = $1", [slotName])
            }
            if slot?.bool("active") == true {
                throw KeelError(.badConfig, "replication slot \"\(slotName)\" is active on upstream \(upstream.nodeLabel)",
                                hint: "another standby with node ID \(config.nodeID) is streaming from it")
            }
            slotExisted = slot != nil
            if !slotExisted, upInfo.maxReplicationSlots - upInfo.replicationSlotsInUse < 1 {
                throw KeelError(.badConfig, "no free replication slots on upstream \(upstream.nodeLabel)",
                                detail: "max_replication_slots = \(upInfo.maxReplicationSlots), in use: \(upInfo.replicationSlotsInUse)")
            }
        }

        let binaries = PostgresBinaries(bindir: options.pgBindir ?? config.pgBindir, majorVersion: info.versionNumber / 10000)
        let basebackup = try binaries.path("pg_basebackup")
        let arguments = basebackupArguments(sourceConninfo: sourceConninfo, slot: nil)
        let primaryConninfo = Self.primaryConninfo(upstream: upstream.conninfo, config: config, replicationUser: context.replicationUser)
        if context.dryRun {
            log.info("all prerequisites for \"standby clone\" are met")
            log.info("would execute:\n  \(([basebackup] + arguments).map(Self.displayQuoted).joined(separator: " "))")
            if config.useReplicationSlots {
                log.info(slotExisted ? "would use the existing replication slot \"\(slotName)\" on the upstream node"
                                     : "would create replication slot \"\(slotName)\" on the upstream node")
            }
            log.info("would write standby.signal and primary_conninfo = '\(Conninfo.masked(primaryConninfo))'")
            return
        }

        if config.useReplicationSlots, !slotExisted {
            try context.query {
                try upstreamConnection.query("SELECT pg_catalog.pg_create_physical_replication_slot($1)", [slotName])
            }
            log.info("replication slot \"\(slotName)\" created on upstream node \"\(upstream.nodeName)\"")
        }
        // A clone that fails leaves nothing behind: the slot it created would hold WAL forever.
        func dropCreatedSlot() {
            guard config.useReplicationSlots, !slotExisted else { return }
            _ = try? upstreamConnection.query("SELECT pg_catalog.pg_drop_replication_slot($1)", [slotName])
        }
        do {
            if !dataDir.isEmpty { try dataDir.removeContents() }
            // PostgreSQL refuses a data directory readable by others; pg_basebackup keeps an existing one's mode.
            if dataDir.exists { try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: config.dataDirectory) }
        } catch {
            dropCreatedSlot()
            throw KeelError(.badBaseBackup, "unable to prepare data directory \"\(config.dataDirectory)\"", detail: "\(error)")
        }
        log.notice("starting backup (using pg_basebackup)...")
        if !options.fastCheckpoint { log.info("this may take some time: use -c/--fast-checkpoint to force an immediate checkpoint") }
        log.debug("executing: \(([basebackup] + arguments).joined(separator: " "))")
        let result = try await ProcessRunner.run(basebackup, arguments, environment: ["PGAPPNAME": "keel_clone"])
        guard result.succeeded else {
            dropCreatedSlot()
            throw KeelError(.badBaseBackup, "unable to take a base backup of the source node",
                            detail: result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        var settings: [(name: String, value: String)] = [("primary_conninfo", primaryConninfo)]
        if config.useReplicationSlots { settings.append(("primary_slot_name", slotName)) }
        for key in ["restore_command", "archive_cleanup_command", "recovery_min_apply_delay"] where !config.string(key).isEmpty {
            settings.append((key, config.string(key)))
        }
        try DataDirectory(config.dataDirectory).writeStandbyConfiguration(settings)
        log.notice("standby clone (using pg_basebackup) complete")
        let (primary, _) = try context.connectPrimary(via: source)
        await EventWriter(context: context).record(.standbyClone, details: "cloned from host \"\(context.remote.host ?? Conninfo.value("host", in: sourceConninfo) ?? "")\", port \(context.remote.port ?? Conninfo.value("port", in: sourceConninfo) ?? "5432"); backup method: pg_basebackup; --force: \(context.force ? "Y" : "N")", on: primary)
        let pgCtl = (try? binaries.path("pg_ctl")) ?? "pg_ctl"
        log.notice("you can now start your PostgreSQL server",
                   metadata: ["hint": "for example: \(pgCtl) -D \(config.dataDirectory) start\nafter starting the server, register this standby with \"keel standby register\""])
    }

    /// The upstream node's record: `--upstream-node-id`, else the active primary.
    private func resolveUpstream(store: MetadataStore) throws -> NodeRecord {
        if let id = options.upstreamNodeID {
            guard let node = try context.query({ try store.node(id: id) }) else {
                throw KeelError(.badConfig, "upstream node \(id) is not registered")
            }
            guard node.type != .witness else { throw KeelError(.badConfig, "upstream node \(id) is a witness and cannot be an upstream") }
            return node
        }
        guard let primary = try context.query({ try store.primary() }) else {
            throw KeelError(.badConfig, "no active primary is registered", hint: "register the primary with \"keel primary register\"")
        }
        return primary
    }

    /// pg_basebackup's arguments: `-D`, source, `-U` replication user, `-X stream`, `--checkpoint=fast`, then
    /// `pg_basebackup_options` split as the shell would.
    func basebackupArguments(sourceConninfo: String, slot: String?) -> [String] {
        var args = ["-D", context.config.dataDirectory, "-d", Conninfo.removing(["dbname", "replication"], from: sourceConninfo),
                    "-U", context.replicationUser, "-X", "stream", "--no-password"]
        if options.fastCheckpoint { args.append("--checkpoint=fast") }
        args.append(contentsOf: ShellWords.split(context.config.pgBasebackupOptions))
        return args
    }

    /// `primary_conninfo` for a standby of `upstream`: the upstream's conninfo with `user` = the
    /// replication user, `application_name` = `node_name`, without `dbname`; with `password` only when
    /// `use_primary_conninfo_password`, `passfile` when configured.
    public static func primaryConninfo(upstream: String, config: KeelConfig, replicationUser: String) -> String {
        var conninfo = Conninfo.removing(["dbname", "replication", "password", "target_session_attrs"], from: upstream)
        conninfo = Conninfo.setting("user", to: replicationUser, in: conninfo)
        conninfo = Conninfo.setting("application_name", to: config.nodeName, in: conninfo)
        if config.bool("use_primary_conninfo_password"), let password = ProcessInfo.processInfo.environment["PGPASSWORD"] {
            conninfo = Conninfo.setting("password", to: password, in: conninfo)
        }
        if !config.string("passfile").isEmpty { conninfo = Conninfo.setting("passfile", to: config.string("passfile"), in: conninfo) }
        return conninfo
    }

    static func displayQuoted(_ word: String) -> String {
        word.contains(where: { $0.isWhitespace || $0 == "'" }) ? Placeholders.shellQuote(Conninfo.masked(word)) : word
    }
}

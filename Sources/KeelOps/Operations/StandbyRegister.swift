#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres

/// `keel standby register [--upstream-node-id N] [--force] [--wait-start S] [--wait-sync[=S]] [--dry-run]`:
/// writes this standby's `repmgr.nodes` row on the primary. Event `standby_register` (`%p %c %a` = the
/// primary). With `-F/--force` a standby that is not running is registered from its configuration (the
/// primary then comes from `-h/-p/-d`; the server checks are skipped). `--wait-sync` waits until the record
/// has replicated to this standby (event `standby_register_sync`; exit 20 on timeout).
/// Source: repmgr 5.3 `do_standby_register`.
public struct StandbyRegister {
    /// The command's own options.
    public struct Options: Sendable {
        /// `--upstream-node-id` (default: the primary).
        public var upstreamNodeID: Int?
        /// Seconds to wait for the local server to accept connections (repmgr's `--wait-start`, default 30; 0 = no wait).
        public var waitStart: Int
        /// `--wait-sync[=S]`: wait for the record to replicate here; `0` = no limit; `nil` = do not wait.
        public var waitSync: Int?

        /// Makes the options.
        public init(upstreamNodeID: Int? = nil, waitStart: Int = 30, waitSync: Int? = nil) {
            self.upstreamNodeID = upstreamNodeID
            self.waitStart = waitStart
            self.waitSync = waitSync
        }
    }

    /// The node's configuration, logger and options (`dryRun`, `force`, `-h/-p/-U/-d` in `remote`).
    public let context: OpsContext
    /// The command's options.
    public let options: Options

    /// Makes the operation for the standby configured in `context`.
    public init(context: OpsContext, options: Options) {
        self.context = context
        self.options = options
    }

    /// Throws `KeelError`: 6 when this node (after `--wait-start`, without `--force`) or the primary is
    /// unreachable; 1 when this node is not in recovery, the node id or name is already registered (without
    /// `--force`), or the upstream is unknown; 20 when `--wait-sync` times out.
    public func run() async throws {
        let config = context.config
        let log = context.logger
        let local = try await localOrNotRunning()
        let primary = try connectPrimary(local: local)
        let store = MetadataStore(connection: primary)
        guard let primaryRecord = try context.query({ try store.primary() }) else {
            throw KeelError(.badConfig, "no active primary is registered", hint: "register the primary with \"keel primary register\"")
        }
        let upstream = try checkRecords(store: store, primaryID: primaryRecord.nodeID)
        if let local { try await checkAttached(local: local, to: upstream, others: try context.query { try store.nodes() }) }
        if context.dryRun {
            log.info("prerequisites for registering the standby are met")
            log.info("would register \(config.nodeLabel) as a standby of \"\(upstream.nodeName)\" (ID: \(upstream.nodeID))")
            if let wait = options.waitSync { log.info("would wait \(wait == 0 ? "" : "up to \(wait) seconds ")for the record to replicate to this standby") }
            return
        }
        let record = NodeRecord(nodeID: config.nodeID, upstreamNodeID: upstream.nodeID, active: true, nodeName: config.nodeName, type: .standby,
                                location: config.location, priority: config.priority, conninfo: config.conninfo,
                                replicationUser: context.replicationUser,
                                slotName: config.useReplicationSlots ? NodeRecord.slotName(for: config.nodeID) : nil,
                                configFile: context.configFile)
        try context.query { try store.upsert(record) }
        await EventWriter(context: context).record(.standbyRegister,
                                                   details: "standby registration succeeded; upstream node ID is \(upstream.nodeID)",
                                                   on: primary, primary: primaryRecord)
        log.notice("standby \(config.nodeLabel) successfully registered")
        if let wait = options.waitSync { try await waitForSync(record, local: local, primary: primary, primaryRecord: primaryRecord, timeout: wait) }
    }

    /// The local connection, or `nil` for a standby that is not running when `--force` is given.
    private func localOrNotRunning() async throws -> Connection? {
        let config = context.config
        do {
            // -F with no server in the data directory: nothing to wait for.
            let stopped = context.force && DataDirectory(config.dataDirectory).runningPostmasterPID == nil
            let local = try await connectLocalWaiting(seconds: stopped ? 0 : options.waitStart)
            let info = try context.query { try ServerInfo.read(local) }
            guard info.isInRecovery else {
                throw KeelError(.badConfig, "this node is not a standby: the server at \"\(Conninfo.masked(config.conninfo))\" is not in recovery",
                                hint: "use \"keel primary register\" for a primary")
            }
            return local
        } catch let error as KeelError where error.status == .dbConnection && context.force {
            guard !context.remote.isEmpty else {
                throw KeelError(.badConfig, "\(config.nodeLabel) is not running and no primary was given",
                                detail: error.message, hint: "to register a standby that is not running, give the primary with -h/-p/-d and -F/--force")
            }
            context.logger.warning("\(config.nodeLabel) is not running: registering it from its configuration (-F/--force)")
            return nil
        }
    }

    /// The primary: `-h/-p/-d` when given, else found from this node; it must run as a primary of this
    /// standby's cluster (checked when this node runs).
    private func connectPrimary(local: Connection?) throws -> Connection {
        let primary: Connection
        if !context.remote.isEmpty {
            primary = try context.connect(try context.remote.conninfo(defaultsFrom: context.config.conninfo), what: "primary node")
        } else if let local {
            primary = try context.connectPrimary(via: local).0
        } else {
            throw KeelError(.badConfig, "no primary given", hint: "use -h/-p/-d")
        }
        let primaryInfo = try context.query { try ServerInfo.read(primary) }
        guard !primaryInfo.isInRecovery else {
            throw KeelError(.badConfig, "the node at \"\(primary.target)\" is not a primary (it is in recovery)")
        }
        if let local, let info = try? ServerInfo.read(local), primaryInfo.systemIdentifier != info.systemIdentifier {
            throw KeelError(.badConfig, "this standby's system identifier differs from the primary's",
                            detail: "standby: \(info.systemIdentifier), primary: \(primaryInfo.systemIdentifier)",
                            hint: "the standby must be cloned from this cluster")
        }
        return primary
    }

    /// The upstream's record (`--upstream-node-id`, else the primary), and no clash with other records.
    private func checkRecords(store: MetadataStore, primaryID: Int) throws -> NodeRecord {
        let config = context.config
        let upstreamID = options.upstreamNodeID ?? primaryID
        guard upstreamID != config.nodeID else {
            throw KeelError(.badConfig, "provided node ID for --upstream-node-id (\(upstreamID)) is the same as the configured local node ID")
        }
        guard let upstream = try context.query({ try store.node(id: upstreamID) }) else {
            throw KeelError(.badConfig, "upstream node \(upstreamID) is not registered", hint: "register the upstream node first")
        }
        guard upstream.type != .witness else { throw KeelError(.badConfig, "upstream node \(upstreamID) is a witness") }
        if let existing = try context.query({ try store.node(id: config.nodeID) }) {
            try Self.checkOverwrite(existing, force: context.force)
        }
        if let other = try context.query({ try store.node(named: config.nodeName) }), other.nodeID != config.nodeID {
            throw KeelError(.badConfig, "node name \"\(config.nodeName)\" is already used by node ID \(other.nodeID)")
        }
        return upstream
    }

    /// `--wait-sync`: polls this standby every second until its copy of `repmgr.nodes` holds `record`
    /// (`timeout` 0 = no limit); records `standby_register_sync`; throws 20 on timeout or when not running.
    private func waitForSync(_ record: NodeRecord, local: Connection?, primary: Connection, primaryRecord: NodeRecord, timeout: Int) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(timeout == 0 ? Int(Int32.max) : timeout))
        context.logger.info("waiting \(timeout == 0 ? "" : "up to \(timeout) seconds ")for the record to replicate to this standby (--wait-sync)")
        var synced = false
        while local != nil {
            if let copy = try? MetadataStore(connection: local!).node(id: record.nodeID), copy.upstreamNodeID == record.upstreamNodeID,
               copy.conninfo == record.conninfo, copy.active { synced = true; break }
            if clock.now >= deadline { break }
            try await Task.sleep(for: .seconds(1))
        }
        let details = synced ? "node record of \(context.config.nodeLabel) replicated to the standby" : "node record of \(context.config.nodeLabel) did not replicate to the standby within \(timeout) seconds"
        await EventWriter(context: context).record(.standbyRegisterSync, successful: synced, details: details, on: primary, primary: primaryRecord)
        guard synced else { throw KeelError(.registrationSync, "\(details) (--wait-sync)", hint: local == nil ? "the standby is not running" : nil) }
        context.logger.notice("\(details)")
    }

    /// repmgr's attachment checks: this server streams from `upstream` (waiting up to 10 s for the WAL
    /// receiver of a standby that just started), and no other node is registered with this server's address.
    /// `--force` skips both.
    private func checkAttached(local: Connection, to upstream: NodeRecord, others: [NodeRecord]) async throws {
        guard !context.force else { return }
        let mine = Conninfo.parse(context.config.conninfo) ?? []
        if let host = mine.last(where: { $0.key == "host" })?.value, let port = Int(mine.last(where: { $0.key == "port" })?.value ?? "5432"),
           let twin = others.first(where: { $0.nodeID != context.config.nodeID && Conninfo.names($0.conninfo, host: host, port: port) }) {
            throw KeelError(.badConfig, "\(twin.nodeLabel) is already registered with this server's address (\(host):\(port))",
                            hint: "use that node's configuration, or -F/--force")
        }
        let deadline = Date().addingTimeInterval(10)
        var sender: (host: String, port: Int)?
        while true {
            sender = (try? ServerInfo.read(local))?.walReceiverSender
            if sender != nil || Date() >= deadline { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        guard let sender, Conninfo.names(upstream.conninfo, host: sender.host, port: sender.port) else {
            let actual = sender.map { s in others.first { Conninfo.names($0.conninfo, host: s.host, port: s.port) }?.nodeName ?? "\(s.host):\(s.port)" }
            throw KeelError(.badConfig, "this node does not appear to be attached to upstream \(upstream.nodeLabel)",
                            detail: actual.map { "it streams from \($0)" } ?? "its WAL receiver is not streaming",
                            hint: "check primary_conninfo, or use -F/--force to register it anyway")
        }
    }

    private func connectLocalWaiting(seconds: Int) async throws -> Connection {
        let deadline = Date().addingTimeInterval(Double(seconds))
        var told = false
        while true {
            do {
                return try context.connectLocal()
            } catch let error as KeelError {
                guard Date() < deadline else { throw error }
                if !told {
                    context.logger.info("waiting up to \(options.waitStart) seconds for the local server to accept connections (--wait-start)")
                    told = true
                }
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}

extension StandbyRegister {
    /// Whether this node's existing record may be replaced by a standby record (pure). A standby's record:
    /// with `--force`. A primary's record: only an inactive one (a former primary cloned or rejoined as a
    /// standby by hand) and only with `--force`; the active primary's record never, since that would leave
    /// the cluster without its registered primary. A witness's record: never. Throws `KeelError` 1.
    static func checkOverwrite(_ existing: NodeRecord, force: Bool) throws {
        let label = existing.nodeLabel
        switch existing.type {
        case .standby where force:
            return
        case .standby:
            throw KeelError(.badConfig, "\(label) is already registered", hint: "use -F/--force to overwrite the existing node record")
        case .primary where existing.active:
            throw KeelError(.badConfig, "\(label) is registered as the active primary; not replacing its record with a standby's",
                            hint: "if this node really is a standby now, promote another node or mark this one failed first; "
                                + "\"keel cluster show\" shows who runs as primary")
        case .primary where force:
            return
        case .primary:
            throw KeelError(.badConfig, "\(label) is registered as an inactive primary",
                            hint: "use -F/--force to register this former primary as a standby")
        default:
            throw KeelError(.badConfig, "\(label) is already registered as a \(existing.type.rawValue)",
                            hint: "unregister the \(existing.type.rawValue) first")
        }
    }
}

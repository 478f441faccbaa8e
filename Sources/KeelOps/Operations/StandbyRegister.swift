import Foundation
import KeelCore
import KeelPostgres

/// `keel standby register [--upstream-node-id N] [--force] [--wait-start S] [--dry-run]`: writes this
/// standby's `repmgr.nodes` row on the primary. Event `standby_register` (`%p %c %a` = the primary).
/// Source: repmgr 5.3 `do_standby_register`.
public struct StandbyRegister {
    public struct Options: Sendable {
        public var upstreamNodeID: Int?
        /// Seconds to wait for the local server to accept connections (repmgr's `--wait-start`, default 30; 0 = no wait).
        public var waitStart: Int
        public init(upstreamNodeID: Int? = nil, waitStart: Int = 30) {
            self.upstreamNodeID = upstreamNodeID
            self.waitStart = waitStart
        }
    }

    public let context: OpsContext
    public let options: Options

    public init(context: OpsContext, options: Options) {
        self.context = context
        self.options = options
    }

    /// Throws `KeelError`: 6 when this node (after `--wait-start`) or the primary is unreachable; 1 when this
    /// node is not in recovery, the node id or name is already registered (without `--force`), or the
    /// upstream is unknown.
    public func run() async throws {
        let config = context.config
        let log = context.logger
        let local = try await connectLocalWaiting()
        let info = try context.query { try ServerInfo.read(local) }
        guard info.isInRecovery else {
            throw KeelError(.badConfig, "this node is not a standby: the server at \"\(Conninfo.masked(config.conninfo))\" is not in recovery",
                            hint: "use \"keel primary register\" for a primary")
        }
        let primary: Connection
        if !context.remote.isEmpty {
            let conninfo = try context.remote.conninfo(defaultsFrom: config.conninfo)
            primary = try context.connect(conninfo, what: "primary node")
        } else {
            primary = try context.connectPrimary(via: local).0
        }
        let primaryInfo = try context.query { try ServerInfo.read(primary) }
        guard !primaryInfo.isInRecovery else {
            throw KeelError(.badConfig, "the node at \"\(primary.target)\" is not a primary (it is in recovery)")
        }
        guard primaryInfo.systemIdentifier == info.systemIdentifier else {
            throw KeelError(.badConfig, "this standby's system identifier differs from the primary's",
                            detail: "standby: \(info.systemIdentifier), primary: \(primaryInfo.systemIdentifier)",
                            hint: "the standby must be cloned from this cluster")
        }
        let store = MetadataStore(connection: primary)
        guard let primaryRecord = try context.query({ try store.primary() }) else {
            throw KeelError(.badConfig, "no active primary is registered", hint: "register the primary with \"keel primary register\"")
        }
        let upstreamID = options.upstreamNodeID ?? primaryRecord.nodeID
        guard upstreamID != config.nodeID else {
            throw KeelError(.badConfig, "provided node ID for --upstream-node-id (\(upstreamID)) is the same as the configured local node ID")
        }
        guard let upstream = try context.query({ try store.node(id: upstreamID) }) else {
            throw KeelError(.badConfig, "upstream node \(upstreamID) is not registered")
        }
        guard upstream.type != .witness else { throw KeelError(.badConfig, "upstream node \(upstreamID) is a witness") }
        if let existing = try context.query({ try store.node(id: config.nodeID) }) {
            if existing.type != .standby {
                throw KeelError(.badConfig, "node ID \(config.nodeID) is already registered as a \(existing.type.rawValue) (\"\(existing.nodeName)\")")
            }
            if !context.force {
                throw KeelError(.badConfig, "node ID \(config.nodeID) is already registered (\"\(existing.nodeName)\")",
                                hint: "use -F/--force to overwrite the existing node record")
            }
        }
        if let other = try context.query({ try store.node(named: config.nodeName) }), other.nodeID != config.nodeID {
            throw KeelError(.badConfig, "node name \"\(config.nodeName)\" is already used by node ID \(other.nodeID)")
        }
        try await checkAttached(local: local, to: upstream, others: try context.query { try store.nodes() })
        if context.dryRun {
            log.info("prerequisites for registering the standby are met")
            log.info("would register \(config.nodeLabel) as a standby of \"\(upstream.nodeName)\" (ID: \(upstreamID))")
            return
        }
        let record = NodeRecord(nodeID: config.nodeID, upstreamNodeID: upstreamID, active: true, nodeName: config.nodeName, type: .standby,
                                location: config.location, priority: config.priority, conninfo: config.conninfo,
                                replicationUser: context.replicationUser,
                                slotName: config.useReplicationSlots ? NodeRecord.slotName(for: config.nodeID) : nil,
                                configFile: context.configFile)
        try context.query { try store.upsert(record) }
        await EventWriter(context: context).record(.standbyRegister,
                                                   details: "standby registration succeeded; upstream node ID is \(upstreamID)",
                                                   on: primary, primary: primaryRecord)
        log.notice("standby \(config.nodeLabel) successfully registered")
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

    private func connectLocalWaiting() async throws -> Connection {
        let deadline = Date().addingTimeInterval(Double(options.waitStart))
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

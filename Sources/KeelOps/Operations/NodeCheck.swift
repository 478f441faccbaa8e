import KeelCore
import KeelPostgres

/// `keel node check [--role|--replication-lag|--archive-ready|--downstream|--upstream|--slots|--missing-slots]
/// [--nagios|--csv|--json]`: health checks of this node. A single check exits with its Nagios code (0 OK,
/// 1 WARNING, 2 CRITICAL, 3 UNKNOWN) even without `--nagios`, as repmgr does; all checks together exit
/// 0, or 25 (ERR_NODE_STATUS) when any is not OK. Source: repmgr 5.3 `do_node_check`.
public struct NodeCheck {
    /// The checks, in the order the full listing prints them.
    public enum Kind: String, Sendable, CaseIterable {
        case role, replicationLag = "replication-lag", archiveReady = "archive-ready", downstream, upstream, slots,
             missingSlots = "missing-slots", dataDirectoryConfig = "data-directory-config",
             repmgrd, dbConnection = "db-connection", replicationConfigOwner = "replication-config-owner"

        /// The checks `node check` runs without options (repmgr's full listing); the last three run only
        /// when asked for.
        public static let listing: [Kind] = [.role, .replicationLag, .archiveReady, .upstream, .downstream, .slots, .missingSlots,
                                             .dataDirectoryConfig]

        /// Name in `--nagios` output (repmgr's, so existing Nagios service definitions keep matching).
        public var nagiosName: String {
            switch self {
            case .role: "REPMGR_SERVER_ROLE"
            case .replicationLag: "REPMGR_REPLICATION_LAG"
            case .archiveReady: "REPMGR_ARCHIVE_READY"
            case .downstream: "REPMGR_DOWNSTREAM_SERVERS"
            case .upstream: "REPMGR_UPSTREAM_SERVER"
            case .slots: "REPMGR_INACTIVE_SLOTS"
        case .missingSlots: "REPMGR_MISSING_SLOTS"
            case .dataDirectoryConfig: "REPMGR_DATA_DIRECTORY"
            case .repmgrd: "REPMGRD"
            case .dbConnection: "REPMGR_DB_CONNECTION"
            case .replicationConfigOwner: "REPMGR_REPLICATION_CONFIG_OWNER"
            }
        }

        /// Label in the text and CSV listings.
        public var label: String {
            switch self {
            case .role: "Server role"
            case .replicationLag: "Replication lag"
            case .archiveReady: "WAL archiving"
            case .downstream: "Downstream servers"
            case .upstream: "Upstream connection"
            case .slots: "Replication slots"
        case .missingSlots: "Missing physical replication slots"
            case .dataDirectoryConfig: "Configured data directory"
            case .repmgrd: "keeld"
            case .dbConnection: "Database connection"
            case .replicationConfigOwner: "Replication configuration file owner"
            }
        }
    }

    /// One check's outcome.
    public struct Result: Sendable, Equatable, Encodable {
        public var check: String
        public var status: String
        public var message: String
        /// Nagios performance data (`lag=12;300;600`), empty when none.
        public var perfdata: String
        var nagios: NagiosStatus

        init(_ kind: Kind, _ nagios: NagiosStatus, _ message: String, perfdata: String = "") {
            self.check = kind.rawValue
            self.status = nagios.label
            self.message = message
            self.perfdata = perfdata
            self.nagios = nagios
        }

        enum CodingKeys: String, CodingKey { case check, status, message, perfdata }
    }

    /// What the checks read from the node, gathered once (`gather`) and evaluated purely (`evaluate`).
    public struct Observation: Sendable {
        public var record: NodeRecord?
        public var info: ServerInfo
        public var archiveReadyFiles: Int
        /// Registered active nodes whose upstream is this node.
        public var downstream: [NodeRecord]
        /// `application_name`s streaming from this node (`pg_stat_replication`).
        public var connectedNames: Set<String>
        /// Physical slots on this node: name → active.
        public var slots: [String: Bool]
        /// Every registered node (to name the node a standby actually streams from).
        public var nodes: [NodeRecord] = []
        /// A standby's walsender state on its registered upstream (`pg_stat_replication.state`).
        public var upstreamState: UpstreamState = .unknown
        /// What the checks on this host read (data directory, keeld, file owners).
        public var local = LocalFacts()
    }

    /// What the registered upstream's `pg_stat_replication` says of this standby.
    public enum UpstreamState: Sendable, Equatable {
        /// The upstream could not be asked (unreachable, or no upstream registered).
        case unknown
        /// Listed, in this state (`streaming`, `catchup`, `startup`, …).
        case listed(String)
        /// Reachable, but this node's `application_name` is not among its walsenders.
        case notListed
    }

    public let context: OpsContext
    public let checks: [Kind]

    public init(context: OpsContext, checks: [Kind]) {
        self.context = context
        self.checks = checks
    }

    /// Prints the results and returns the exit code. Throws `KeelError` 6 when the node is unreachable.
    public func run() async throws -> Int32 {
        if context.format == .nagios, checks.count != 1 {
            throw KeelError(.badConfig, "--nagios can only be used with a single check", hint: "for example: keel node check --role --nagios")
        }
        let kinds = checks.isEmpty ? Kind.listing : checks
        let conn: Connection
        do {
            conn = try context.connectLocal()
        } catch let error as KeelError where checks.count == 1 {
            // A single check is a monitoring probe: answer in its format, CRITICAL, rather than with an error block.
            let r = Result(kinds[0], .critical, "unable to connect to \(context.config.nodeLabel)")
            switch context.format {
            case .nagios: context.output("\(kinds[0].nagiosName) CRITICAL: \(r.message)")
            case .json: context.output(JSON.render([r]))
            case .csv: context.output(CSV.row([kinds[0].label, r.status, r.message], quoteAll: true))
            case .text: context.output("CRITICAL (\(r.message))")
            }
            context.logger.debug("\(error.description)")
            return NagiosStatus.critical.rawValue
        }
        var observation = try context.query { try Self.gather(conn, nodeID: context.config.nodeID) }
        if observation.info.isInRecovery, kinds.contains(.upstream) { observation.upstreamState = upstreamState(observation) }
        observation.local = localFacts(conn)
        let results = kinds.map { Self.evaluate($0, observation, config: context.config) }
        switch context.format {
        case .json:
            context.output(JSON.render(results))
        case .csv:
            context.output(zip(kinds, results).map { CSV.row([$0.label, $1.status, $1.message], quoteAll: true) }.joined(separator: "\n"))
        case .nagios:
            context.output(zip(kinds, results).map { kind, r in
                "\(kind.nagiosName) \(r.status): \(r.message)" + (r.perfdata.isEmpty ? "" : " | \(r.perfdata)")
            }.joined(separator: "\n"))
        case .text:
            if kinds.count == 1, let r = results.first {
                context.output("\(r.status) (\(r.message))")
            } else {
                let name = observation.record?.nodeName ?? context.config.nodeName
                context.output("Node \"\(name)\":\n" + zip(kinds, results).map { "\t\($0.label): \($1.status) (\($1.message))" }.joined(separator: "\n"))
            }
        }
        if checks.count == 1, let r = results.first { return r.nagios.rawValue }
        return results.allSatisfy { $0.nagios == .ok } ? 0 : ExitStatus.nodeStatus.rawValue
    }

    /// Asks the registered upstream how it sees this standby; `.unknown` when it cannot be reached.
    private func upstreamState(_ o: Observation) -> UpstreamState {
        guard let id = o.record?.upstreamNodeID, let upstream = o.nodes.first(where: { $0.nodeID == id }),
              let conn = try? Connection(conninfo: upstream.conninfo),
              let states = try? ReplicationStates.read(conn) else { return .unknown }
        return states[o.record?.nodeName ?? context.config.nodeName].map(UpstreamState.listed) ?? .notListed
    }

    /// Reads everything the checks need from `conn`. Throws `PostgresError`.
    public static func gather(_ conn: Connection, nodeID: Int) throws(PostgresError) -> Observation {
        let info = try ServerInfo.read(conn)
        let store = MetadataStore(connection: conn)
        let hasSchema = try Migrator(connection: conn).schemaExists()
        let nodes = hasSchema ? try store.nodes() : []
        let archiveReady = try conn.queryRow("""
            SELECT count(*)::int AS n FROM pg_catalog.pg_ls_dir('pg_wal/archive_status') AS f WHERE f LIKE '%.ready'
            """)?.int("n") ?? 0
        let names = Set(try conn.query("SELECT application_name FROM pg_catalog.pg_stat_replication").compactMap { $0.string("application_name") })
        var slots: [String: Bool] = [:]
        for row in try conn.query("SELECT slot_name, active FROM pg_catalog.pg_replication_slots WHERE slot_type = 'physical'") {
            if let name = row.string("slot_name") { slots[name] = row.bool("active") ?? false }
        }
        return Observation(record: nodes.first { $0.nodeID == nodeID }, info: info, archiveReadyFiles: archiveReady,
                           downstream: nodes.filter { $0.upstreamNodeID == nodeID && $0.active && $0.type == .standby },
                           connectedNames: names, slots: slots, nodes: nodes)
    }

    /// Evaluates one check (pure).
    public static func evaluate(_ kind: Kind, _ o: Observation, config: KeelConfig) -> Result {
        let isStandby = o.info.isInRecovery
        switch kind {
        case .role:
            guard let record = o.record else { return Result(kind, .unknown, "node is not registered") }
            switch (record.type, isStandby) {
            case (.primary, false): return Result(kind, .ok, "node is primary")
            case (.primary, true): return Result(kind, .critical, "node is registered as primary but running as standby")
            case (.standby, true): return Result(kind, .ok, "node is standby")
            case (.standby, false): return Result(kind, .critical, "node is registered as standby but running as primary")
            case (.witness, false): return Result(kind, .ok, "node is witness")
            default: return Result(kind, .critical, "node is registered as \(record.type.rawValue) but is in recovery")
            }
        case .replicationLag:
            guard isStandby else { return Result(kind, .ok, "N/A - node is \(o.record?.type.rawValue ?? "primary")") }
            let lag = o.info.replayLagSeconds ?? 0
            let warn = config.replicationLagWarning, crit = config.replicationLagCritical
            let perf = "lag=\(lag);\(warn);\(crit)"
            if lag >= crit { return Result(kind, .critical, "\(lag) seconds (critical: \(crit))", perfdata: perf) }
            if lag >= warn { return Result(kind, .warning, "\(lag) seconds (warning: \(warn))", perfdata: perf) }
            return Result(kind, .ok, "\(lag) seconds", perfdata: perf)
        case .archiveReady:
            let n = o.archiveReadyFiles, warn = config.archiveReadyWarning, crit = config.archiveReadyCritical
            let perf = "files=\(n);\(warn);\(crit)"
            if n >= crit { return Result(kind, .critical, "\(n) pending archive ready files (critical: \(crit))", perfdata: perf) }
            if n >= warn { return Result(kind, .warning, "\(n) pending archive ready files (warning: \(warn))", perfdata: perf) }
            return Result(kind, .ok, "\(n) pending archive ready files", perfdata: perf)
        case .downstream:
            let expected = o.downstream.map(\.nodeName)
            let missing = expected.filter { !o.connectedNames.contains($0) }
            let perf = "attached=\(expected.count - missing.count) missing=\(missing.count)"
            if expected.isEmpty { return Result(kind, .ok, "this node has no downstream nodes", perfdata: perf) }
            if missing.isEmpty { return Result(kind, .ok, "\(expected.count) of \(expected.count) downstream nodes attached", perfdata: perf) }
            return Result(kind, .critical, "\(missing.count) of \(expected.count) downstream nodes not attached; missing: \(missing.joined(separator: ", "))",
                          perfdata: perf)
        case .upstream:
            return evaluateUpstream(o)
        case .slots:
            let inactive = o.slots.filter { !$0.value }.map(\.key).sorted()
            if inactive.isEmpty { return Result(kind, .ok, "node has no inactive physical replication slots") }
            return Result(kind, .critical, "\(inactive.count) inactive physical replication slots: \(inactive.joined(separator: ", "))")
        case .dataDirectoryConfig, .repmgrd, .dbConnection, .replicationConfigOwner:
            return evaluateLocal(kind, o, config: config)
        case .missingSlots:
            let expected = o.downstream.compactMap(\.slotName)
            let missing = expected.filter { o.slots[$0] == nil }.sorted()
            if missing.isEmpty { return Result(kind, .ok, "node has no missing physical replication slots") }
            return Result(kind, .critical, "\(missing.count) missing physical replication slots: \(missing.joined(separator: ", "))")
        }
    }

    /// `--upstream` (pure): the local WAL receiver, then how the upstream lists this node. A standby the
    /// upstream lists in a state other than `streaming` (`catchup` after a restart) is attached: WARNING,
    /// not CRITICAL, and the message names the state (repmgr 5.3 calls it "not attached").
    static func evaluateUpstream(_ o: Observation) -> Result {
        let kind = Kind.upstream
        guard o.info.isInRecovery else { return Result(kind, .ok, "N/A - node is \(o.record?.type.rawValue ?? "primary")") }
        let registered = o.record?.upstreamNodeID.flatMap { id in o.nodes.first { $0.nodeID == id } }
        guard o.info.walReceiverStatus == "streaming" else {
            return Result(kind, .critical, "node is not streaming from its upstream (WAL receiver: \(o.info.walReceiverStatus ?? "not running"))")
        }
        if let registered, let sender = o.info.walReceiverSender,
           !Conninfo.names(registered.conninfo, host: sender.host, port: sender.port) {
            let actual = o.nodes.first { Conninfo.names($0.conninfo, host: sender.host, port: sender.port) }
            return Result(kind, .critical, "node streams from \(actual.map { "\"\($0.nodeName)\"" } ?? "\(sender.host):\(sender.port)"), not from its registered upstream \"\(registered.nodeName)\"")
        }
        let name = registered.map { "\"\($0.nodeName)\"" } ?? "(unknown)"
        switch o.upstreamState {
        case .listed(let state) where state != "streaming":
            return Result(kind, .warning, "node is attached to its upstream node \(name) in state \"\(state)\"")
        case .notListed:
            return Result(kind, .warning, "node's WAL receiver is streaming but upstream node \(name) does not list it in pg_stat_replication")
        default:
            return Result(kind, .ok, "node is attached to its upstream and streaming")
        }
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres
import Logging

/// How a listing is printed: repmgr's text table, `--csv`, `--json`, or `--nagios` (node check).
public enum OutputFormat: String, Sendable {
    case text, csv, json, nagios
}

/// `-h/-p/-U/-d`: the node an operation connects to when it is not the local one (clone source,
/// witness's primary, `cluster show` from elsewhere). `-d` may hold a whole conninfo string.
public struct RemoteNodeOptions: Sendable, Equatable {
    public var host: String?
    public var port: String?
    public var user: String?
    public var dbname: String?

    public init(host: String? = nil, port: String? = nil, user: String? = nil, dbname: String? = nil) {
        self.host = host; self.port = port; self.user = user; self.dbname = dbname
    }

    /// True when none of the four was given.
    public var isEmpty: Bool { host == nil && port == nil && user == nil && dbname == nil }

    /// A conninfo for the remote node: `-d` when it is a conninfo string, completed by `-h -p -U`; missing
    /// `user` and `dbname` are taken from `local` (this node's `conninfo`), as repmgr does.
    /// Throws `KeelError` 1 when `-d` holds a conninfo string that does not parse.
    public func conninfo(defaultsFrom local: String) throws -> String {
        var pairs: [(key: String, value: String)] = []
        if let dbname, dbname.contains("=") || dbname.contains("://") {
            do {
                pairs = try ConninfoSyntax.parse(dbname).map { ($0.keyword, $0.value) }
            } catch {
                throw KeelError(.badConfig, "invalid connection string given with -d/--dbname", detail: error.message,
                                hint: "quote values that contain spaces: -d \"host=db1 password='a b'\"")
            }
        } else if let dbname {
            pairs.append(("dbname", dbname))
        }
        func set(_ key: String, _ value: String?) {
            guard let value else { return }
            if let i = pairs.firstIndex(where: { $0.key == key }) { pairs[i].value = value } else { pairs.append((key, value)) }
        }
        set("host", host)
        set("port", port)
        set("user", user)
        let localPairs = Conninfo.parse(local) ?? []
        for key in ["user", "dbname", "connect_timeout", "passfile", "sslmode"] where !pairs.contains(where: { $0.key == key }) {
            if let v = localPairs.last(where: { $0.key == key })?.value { pairs.append((key, v)) }
        }
        return Conninfo.render(pairs)
    }
}

/// Everything an operation needs from its caller: the node's configuration, the common options, the
/// logger (repmgr-style lines on stderr) and where results are printed (stdout).
public struct OpsContext: Sendable {
    public var config: KeelConfig
    public var logger: Logger
    public var dryRun: Bool
    public var force: Bool
    public var format: OutputFormat
    public var remote: RemoteNodeOptions
    /// Prints one block of results (a table, CSV rows, JSON) to standard output.
    public var output: @Sendable (String) -> Void
    /// Runs the hooks (shell and Lua); the process's one runner (`HookRunner.shared` in `keel`, keeld's own).
    public var hooks: HookRunner
    /// Where an operation's event notifications go instead of running inline (keeld: its queue, so that
    /// `event_notification_command` never holds up the monitoring loop); `nil` runs them inline.
    public var notifier: (@Sendable (EventRecord, NodeRecord?) -> Void)?
    /// Deadlines for the probes of other nodes an operation makes (keeld's: a frozen node then costs the
    /// deadline, not libpq's `connect_timeout`); `nil` = plain connections.
    public var deadlines: ConnectionDeadlines?

    /// A context for the node configured in `config`; `hooks` defaults to the process's shared runner.
    public init(config: KeelConfig, logger: Logger, dryRun: Bool = false, force: Bool = false, format: OutputFormat = .text,
                remote: RemoteNodeOptions = RemoteNodeOptions(), hooks: HookRunner = .shared,
                output: @escaping @Sendable (String) -> Void = { print($0) }) {
        self.hooks = hooks
        self.config = config
        self.logger = logger
        self.dryRun = dryRun
        self.force = force
        self.format = format
        self.remote = remote
        self.output = output
    }

    /// Connects to this node (`conninfo`). Throws `KeelError` with exit 6 and libpq's message.
    public func connectLocal() throws -> Connection {
        try connect(config.conninfo, what: "local \(config.nodeLabel)")
    }

    /// Connects to `conninfo`, describing the target as `what` in the error.
    public func connect(_ conninfo: String, what: String) throws -> Connection {
        logger.debug("connecting to \(what): \"\(Conninfo.masked(conninfo))\"")
        do {
            return try Connection(conninfo: conninfo)
        } catch {
            throw KeelError(.dbConnection, "unable to connect to \(what)",
                            detail: "\(error.message)\nattempted to connect using: \"\(error.target)\"")
        }
    }

    /// The primary, found through the metadata visible on `connection`: `connection` itself when it is a
    /// primary (not in recovery, not a witness); else the registered primary when it answers as one; else
    /// the reachable node that runs as primary (`PrimaryFinder`). Throws `KeelError` 6 when none answers.
    public func connectPrimary(via connection: Connection) throws -> (Connection, NodeRecord?) {
        let info = try query { try ServerInfo.read(connection) }
        let store = MetadataStore(connection: connection)
        guard try query({ try Migrator(connection: connection).schemaExists() }) else {
            if !info.isInRecovery { return (connection, nil) }
            throw KeelError(.dbConnection, "unable to determine the primary node",
                            detail: "no metadata found on \(connection.target)",
                            hint: "register the primary first with \"keel primary register\"")
        }
        let nodes = try query { try store.nodes() }
        let record = nodes.first { $0.type == .primary && $0.active }
        let me = nodes.first { $0.nodeID == config.nodeID }
        if !info.isInRecovery, me?.type != .witness { return (connection, record) }
        if let record, let conn = try? Connection(conninfo: record.conninfo),
           (try? ServerInfo.read(conn))?.isInRecovery == false {
            return (conn, record)
        }
        if let (found, conn) = PrimaryFinder.find(nodes.filter { $0.nodeID != config.nodeID }) {
            return (conn, found)
        }
        throw KeelError(.dbConnection, "unable to connect to the primary node",
                        detail: record.map { "registered primary: \"\($0.nodeName)\" (ID: \($0.nodeID)) at \"\(Conninfo.masked($0.conninfo))\"" }
                            ?? "no active primary is registered",
                        hint: "check the primary is running, or give its connection with -h/-p/-d")
    }

    /// Runs a metadata/server query, turning a `PostgresError` into the operator's error (exit 6 or 7).
    public func query<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PostgresError {
            throw error.keelError
        }
    }

    /// The absolute path of the loaded configuration file, stored in `repmgr.nodes.config_file`.
    public var configFile: String { config.path }

    /// The replication user: `replication_user`, else the conninfo's `user`, else the OS user.
    public var replicationUser: String {
        if !config.replicationUser.isEmpty { return config.replicationUser }
        return Conninfo.value("user", in: config.conninfo) ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
    }
}

import KeelCore

/// The cluster and the process as the `keel` module reaches them. Keel's implementation (KeelOps,
/// `PostgresKeelHost`) uses libpq, `ProcessRunner` and the event writer; unit tests use a fake, so the
/// module runs without a database.
///
/// # Implementation requirements
/// Methods are called on the Lua engine's own thread, synchronously, while a hook runs: they may block
/// (bounded by the `timeout` they are given) but must not call back into the engine. Errors thrown become
/// Lua errors in the calling script (`keel.query: <description>`).
public protocol KeelHost: Sendable {
    /// This node (`keel.node`): its configured identity and, when known, its metadata record.
    func localNode() throws -> LuaNode
    /// Every registered node with live state for the reachable ones (`keel.nodes()`).
    func nodes() throws -> [LuaNode]
    /// One registered node with live state, `nil` when no node has that ID (`keel.node_by_id`).
    func node(id: Int) throws -> LuaNode?
    /// Runs `sql` with `$1…$n` bound to `parameters` (text; `nil` = NULL) on `target`, inside a read-only
    /// transaction when `readOnly` (`keel.query`), else as is (`keel.exec`); at most `timeout` seconds.
    func query(_ target: LuaQueryTarget, _ sql: String, parameters: [String?], readOnly: Bool, timeout: Double) throws -> LuaQueryResult
    /// Runs `command` with `/bin/sh -c`, `environment` added, killed after `timeout` seconds (`keel.shell`).
    func shell(_ command: String, environment: [String: String], timeout: Double) throws -> LuaShellResult
    /// Writes a line the hook logged (`keel.log.*`, `print`); `hook` names the hook (for the log prefix).
    func log(_ level: LuaLogLevel, _ message: String, hook: String)
    /// Records an event (`keel.event`): a `repmgr.events` row for this node and its notification.
    func event(_ name: String, successful: Bool, details: String, hook: String) throws
    /// True when `keel.exec`, `keel.shell` and `keel.event` only log what they would do (`keel.dry_run`).
    var dryRun: Bool { get }
}

extension KeelHost {
    /// Hosts act for real unless they say otherwise.
    public var dryRun: Bool { false }
}

/// A node as `keel.node`, `keel.nodes()` and `keel.node_by_id` hand it to Lua.
public struct LuaNode: Sendable, Equatable {
    /// `node_id`.
    public var id: Int
    /// `node_name`.
    public var name: String
    /// `primary`, `standby` or `witness` (`unknown` when this node's record could not be read).
    public var type: String
    /// `upstream_node_id`.
    public var upstreamID: Int?
    /// `active`.
    public var active: Bool
    /// `location`.
    public var location: String
    /// `priority`.
    public var priority: Int
    /// `conninfo` as stored; handed to Lua masked (`Conninfo.masked`), never in clear.
    public var conninfo: String
    /// `data_directory` (this node only).
    public var dataDirectory: String?
    /// `running` or `unreachable` when the node was probed; `nil` when it was not.
    public var status: String?
    /// `pg_is_in_recovery()` of a reachable node.
    public var isInRecovery: Bool?
    /// The node's WAL position (a primary's current LSN, a standby's last received) as PostgreSQL prints it.
    public var lsn: String?
    /// The node's current timeline.
    public var timeline: Int?
    /// Bytes behind the reference position: the reachable primary's current LSN, or when no primary answers
    /// the most advanced reachable node's (so during a failover, the lag behind the best sibling).
    public var lagBytes: Int64?

    /// Makes a node.
    public init(id: Int, name: String, type: String, upstreamID: Int? = nil, active: Bool = true, location: String = "default",
                priority: Int = 100, conninfo: String, dataDirectory: String? = nil, status: String? = nil,
                isInRecovery: Bool? = nil, lsn: String? = nil, timeline: Int? = nil, lagBytes: Int64? = nil) {
        self.id = id
        self.name = name
        self.type = type
        self.upstreamID = upstreamID
        self.active = active
        self.location = location
        self.priority = priority
        self.conninfo = conninfo
        self.dataDirectory = dataDirectory
        self.status = status
        self.isInRecovery = isInRecovery
        self.lsn = lsn
        self.timeline = timeline
        self.lagBytes = lagBytes
    }

    /// The Lua table: `id, name, type, upstream_id, active, location, priority, conninfo` (masked),
    /// `data_directory`, and `status, is_in_recovery, lsn, timeline, lag_bytes` when known.
    public var luaValue: LuaValue {
        .fields([
            ("id", .integer(Int64(id))), ("name", .string(name)), ("type", .string(type)),
            ("upstream_id", upstreamID.map { .integer(Int64($0)) }), ("active", .boolean(active)),
            ("location", .string(location)), ("priority", .integer(Int64(priority))),
            ("conninfo", .string(Conninfo.masked(conninfo))), ("data_directory", dataDirectory.map(LuaValue.string)),
            ("status", status.map(LuaValue.string)), ("is_in_recovery", isInRecovery.map(LuaValue.boolean)),
            ("lsn", lsn.map(LuaValue.string)), ("timeline", timeline.map { .integer(Int64($0)) }),
            ("lag_bytes", lagBytes.map(LuaValue.integer)),
        ])
    }
}

/// Where `keel.query`/`keel.exec` run: a registered node by ID, or a conninfo string.
public enum LuaQueryTarget: Sendable, Equatable {
    /// The registered node with this ID (its `conninfo` from `repmgr.nodes`).
    case node(Int)
    /// A libpq conninfo string.
    case conninfo(String)
}

/// Rows of `keel.query`/`keel.exec`: column names and, per row, one value per column (`.null` for NULL).
public struct LuaQueryResult: Sendable, Equatable {
    /// Column names in result order.
    public var columns: [String]
    /// Values row by row, column by column.
    public var rows: [[LuaValue]]

    /// Makes a result.
    public init(columns: [String], rows: [[LuaValue]]) {
        self.columns = columns
        self.rows = rows
    }
}

/// What `keel.shell` returns: `{code = exit status (124 on timeout, 128+n when killed), stdout, stderr}`.
public struct LuaShellResult: Sendable, Equatable {
    /// Exit status.
    public var code: Int
    /// Captured standard output.
    public var stdout: String
    /// Captured standard error.
    public var stderr: String

    /// Makes a result.
    public init(code: Int, stdout: String, stderr: String) {
        self.code = code
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Levels of `keel.log.*` (`print` logs at `info`).
public enum LuaLogLevel: String, Sendable, Equatable, CaseIterable {
    /// `keel.log.debug`.
    case debug
    /// `keel.log.info` and `print`.
    case info
    /// `keel.log.warn`.
    case warn
    /// `keel.log.error`.
    case error
}

/// One line a hook logged.
public struct LuaLogEntry: Sendable, Equatable {
    /// Its level.
    public var level: LuaLogLevel
    /// The text.
    public var message: String

    /// Makes an entry.
    public init(level: LuaLogLevel, message: String) {
        self.level = level
        self.message = message
    }
}

/// An error a `KeelHost` throws with a message for the script (`keel.query: <message>`).
public struct KeelHostError: Error, Sendable, CustomStringConvertible {
    /// What the script sees after the function's name.
    public var message: String
    /// Makes an error.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// A host that answers the cluster questions (nodes, queries, shell) with another host — a playbook's
/// host on top of the hooks' one, or a test's fake — and adds only what differs.
public protocol ForwardingKeelHost: KeelHost {
    associatedtype Base: KeelHost
    /// The host the cluster questions go to.
    var base: Base { get }
}

extension ForwardingKeelHost {
    public func localNode() throws -> LuaNode { try base.localNode() }
    public func nodes() throws -> [LuaNode] { try base.nodes() }
    public func node(id: Int) throws -> LuaNode? { try base.node(id: id) }
    public func query(_ target: LuaQueryTarget, _ sql: String, parameters: [String?], readOnly: Bool, timeout: Double) throws -> LuaQueryResult {
        try base.query(target, sql, parameters: parameters, readOnly: readOnly, timeout: timeout)
    }
    public func shell(_ command: String, environment: [String: String], timeout: Double) throws -> LuaShellResult {
        try base.shell(command, environment: environment, timeout: timeout)
    }
}

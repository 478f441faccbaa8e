import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelLua
import KeelPostgres
import Logging

/// The `keel` module's access to the real cluster: this node's configuration and metadata, live probes
/// over libpq, queries, `/bin/sh`, the log and the event writer.
///
/// Runs on the Lua engine's thread (blocking there is fine: it is not a cooperative thread). Queries open
/// their own connection and set `statement_timeout` to the hook's remaining budget; `keel.query` runs in a
/// `BEGIN TRANSACTION READ ONLY` block, `keel.exec` outside any transaction (so `ALTER SYSTEM` and
/// `pg_promote()` work). Conninfo strings reach Lua masked (`LuaNode.luaValue`).
public struct PostgresKeelHost: KeelHost {
    /// The node's configuration and logger.
    public let context: OpsContext
    /// Where recorded events' notifications go.
    let hooks: HookRunner
    /// False inside an event notification hook: its `keel.event` events are recorded, not notified.
    let notifyEvents: Bool
    /// `keel hook test --dry-run`: `keel.exec`, `keel.shell` and `keel.event` log instead of acting.
    public let dryRun: Bool

    /// A host for hooks of the node configured in `context`.
    public init(context: OpsContext, hooks: HookRunner, notifyEvents: Bool = true, dryRun: Bool = false) {
        self.context = context
        self.hooks = hooks
        self.notifyEvents = notifyEvents
        self.dryRun = dryRun
    }

    private var config: KeelConfig { context.config }

    /// This node from its configuration; type, upstream and `active` from its metadata record when the local
    /// server answers (else type `unknown`).
    public func localNode() throws -> LuaNode {
        let record = (try? Connection(conninfo: config.conninfo)).flatMap { try? MetadataStore(connection: $0).node(id: config.nodeID) }
        return LuaNode(id: config.nodeID, name: config.nodeName, type: record?.type.rawValue ?? "unknown",
                       upstreamID: record?.upstreamNodeID, active: record?.active ?? true, location: config.location,
                       priority: config.priority, conninfo: config.conninfo, dataDirectory: config.dataDirectory)
    }

    /// Every registered node (from this node's copy of `repmgr.nodes`), each probed at once (one connection
    /// and one query per node, bounded by its `connect_timeout`).
    public func nodes() throws -> [LuaNode] {
        let records = try registeredNodes()
        let probes = ProbeSlots(count: records.count)
        DispatchQueue.concurrentPerform(iterations: records.count) { i in
            let info = (try? Connection(conninfo: records[i].conninfo)).flatMap { try? ServerInfo.read($0) }
            probes.set(i, info)
        }
        let infos = probes.values
        // The reference position: the running primary's, else (during a failover) the best reachable node's.
        let primaryLSN = zip(records, infos).first { $0.0.type != .witness && $0.1?.isInRecovery == false }?.1?.lsn
        let reference = primaryLSN ?? zip(records, infos).filter { $0.0.type != .witness }.compactMap { $0.1?.lsn }.max()
        return zip(records, infos).map { record, info in
            var node = LuaNode(id: record.nodeID, name: record.nodeName, type: record.type.rawValue, upstreamID: record.upstreamNodeID,
                               active: record.active, location: record.location, priority: record.priority, conninfo: record.conninfo,
                               dataDirectory: record.nodeID == config.nodeID ? config.dataDirectory : nil,
                               status: info == nil ? "unreachable" : "running")
            if let info {
                node.isInRecovery = info.isInRecovery
                node.lsn = info.lsn?.description
                node.timeline = info.timeline
                if record.type != .witness, let reference, let lsn = info.lsn {
                    node.lagBytes = Int64(clamping: reference.bytes(after: lsn))
                }
            }
            return node
        }
    }

    /// `nodes()`'s entry for `id`.
    public func node(id: Int) throws -> LuaNode? {
        try nodes().first { $0.id == id }
    }

    /// Runs `sql` on the target (see the type's summary). Throws `KeelHostError` with libpq's or the
    /// server's message (conninfo masked).
    public func query(_ target: LuaQueryTarget, _ sql: String, parameters: [String?], readOnly: Bool, timeout: Double) throws -> LuaQueryResult {
        let conninfo: String
        switch target {
        case .conninfo(let text):
            conninfo = text
        case .node(let id):
            guard let record = try registeredNodes().first(where: { $0.nodeID == id }) else {
                throw KeelHostError("no node with ID \(id) is registered")
            }
            conninfo = record.conninfo
        }
        if dryRun, !readOnly {
            context.logger.notice("dry run: would execute on \"\(Conninfo.masked(conninfo))\": \(sql)")
            return LuaQueryResult(columns: [], rows: [])
        }
        let limit = context.config.luaMemoryLimitMB << 20
        do throws(PostgresError) {
            let connection = try Connection(conninfo: conninfo)
            let milliseconds = timeout.isFinite ? max(1, Int(timeout * 1000)) : 0
            let rows: [Row]
            if readOnly {
                try connection.query("BEGIN TRANSACTION READ ONLY")
                try connection.query("SELECT pg_catalog.set_config('statement_timeout', $1, true)", [String(milliseconds)])
                guard let read = try BoundedQuery.rows(connection, sql, parameters, limit: limit) else {
                    try connection.query("ROLLBACK")
                    throw PostgresError(kind: .query, message: BoundedQuery.overflowMessage(limit: limit), target: connection.target)
                }
                rows = read
                try connection.query("COMMIT")
            } else {
                try connection.query("SELECT pg_catalog.set_config('statement_timeout', $1, false)", [String(milliseconds)])
                rows = try connection.query(sql, parameters)
            }
            return LuaQueryResult(columns: rows.first?.columns ?? [], rows: rows.map { $0.values.map(Self.luaValue) })
        } catch {
            throw KeelHostError(error.sqlState.map { "\(error.message) (SQLSTATE \($0))" } ?? "\(error.message) (\(error.target))")
        }
    }

    /// `/bin/sh -c command` through `ProcessRunner` (output capped at 4 MiB per stream).
    public func shell(_ command: String, environment: [String: String], timeout: Double) throws -> LuaShellResult {
        if dryRun {
            context.logger.notice("dry run: would execute: \(command)")
            return LuaShellResult(code: 0, stdout: "", stderr: "")
        }
        let result = Blocking.wait { try await ProcessRunner.shell(command, environment: environment, timeout: timeout) }
        switch result {
        case .success(let r): return LuaShellResult(code: Int(r.status), stdout: r.stdout, stderr: r.stderr)
        case .failure(let error): throw KeelHostError("cannot run \"\(command)\": \(error)")
        }
    }

    /// The hook's line in keeld's or keel's log, prefixed with the hook.
    /// Control characters (newline, carriage return, escape …) are written as `\n`, `\r`, `\u{1b}`, so a
    /// hook cannot forge or hide lines of keeld's log.
    public func log(_ level: LuaLogLevel, _ message: String, hook: String) {
        let line: Logger.Message = "\(hook): \(Self.printable(message))"
        switch level {
        case .debug: context.logger.debug(line)
        case .info: context.logger.info(line)
        case .warn: context.logger.warning(line)
        case .error: context.logger.error(line)
        }
    }

    /// Writes the event row on the primary (or keeps it local when none answers) and hands the record to the
    /// runner for its notification.
    public func event(_ name: String, successful: Bool, details: String, hook: String) throws {
        if dryRun {
            context.logger.notice("dry run: would record event \"\(name)\" (\(successful ? "success" : "failure")): \(details)")
            return
        }
        var connection: Connection?
        if let local = try? Connection(conninfo: config.conninfo) {
            connection = (try? context.connectPrimary(via: local))?.0
        }
        let record = EventWriter(context: context).write(named: name, successful: successful, details: details, on: connection)
        if notifyEvents {
            hooks.recorded(record, primary: nil)
        } else {
            context.logger.debug("event \"\(name)\" recorded by an event notification hook is not notified")
        }
    }

    private func registeredNodes() throws -> [NodeRecord] {
        do throws(PostgresError) {
            let local = try Connection(conninfo: config.conninfo)
            return try MetadataStore(connection: local).nodes()
        } catch {
            throw KeelHostError("cannot read the nodes from this node's metadata: \(error.message)")
        }
    }

    /// `text` with every control character but tab escaped (`\n`, `\r`, `\u{1b}`).
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value):
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func luaValue(_ value: PostgresValue) -> LuaValue {
        switch value {
        case .null: .null
        case .bool(let b): .boolean(b)
        case .int(let i): .integer(i)
        case .double(let d): .number(d)
        case .lsn(let l): .string(l.description)
        case .text(let s): .string(s)
        }
    }
}

/// Probe results, one slot per node, filled concurrently.
private final class ProbeSlots: @unchecked Sendable {
    private let lock = Lock()
    private var slots: [ServerInfo?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ info: ServerInfo?) { lock.withLock { slots[i] = info } }
    var values: [ServerInfo?] { lock.withLock { slots } }
}

/// Waiting on a thread that may block (the Lua engine's) for async work done on the cooperative pool.
enum Blocking {
    /// Runs `body` in a task and blocks the calling thread until it finishes. Never call it from a
    /// cooperative thread.
    static func wait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { box.value = .success(try await body()) } catch { box.value = .failure(error) }
            done.signal()
        }
        done.wait()
        return box.value!
    }

    private final class ResultBox<T>: @unchecked Sendable {
        var value: Result<T, any Error>?
    }
}

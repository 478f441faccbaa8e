import Foundation
import KeelLua

/// A `KeelHost` without a database: fixed nodes, canned query results, recorded calls.
final class FakeHost: KeelHost, @unchecked Sendable {
    private let lock = NSLock()
    var me = LuaNode(id: 2, name: "node2", type: "standby", upstreamID: 1, location: "dc1", priority: 100,
                     conninfo: "host=db2 user=repmgr password=s3cret dbname=repmgr", dataDirectory: "/var/lib/pg")
    var cluster: [LuaNode] = [
        LuaNode(id: 1, name: "node1", type: "primary", conninfo: "host=db1 password=s3cret", status: "unreachable"),
        LuaNode(id: 2, name: "node2", type: "standby", upstreamID: 1, conninfo: "host=db2 password=s3cret", status: "running",
                isInRecovery: true, lsn: "0/3000060", timeline: 1, lagBytes: 0),
        LuaNode(id: 3, name: "node3", type: "standby", upstreamID: 1, conninfo: "host=db3", status: "running",
                isInRecovery: true, lsn: "0/3000000", timeline: 1, lagBytes: 96),
    ]
    var queryResult = LuaQueryResult(columns: ["one"], rows: [[.integer(1)]])
    var queryError: String?
    /// When set, answers queries instead of `queryResult`.
    var respond: (@Sendable (LuaQueryTarget, String, [String?], Bool) -> LuaQueryResult)?
    private(set) var queries: [(LuaQueryTarget, String, [String?], Bool)] = []
    private(set) var events: [(String, Bool, String)] = []
    private(set) var logged: [(LuaLogLevel, String)] = []
    private(set) var shells: [(String, [String: String], Double)] = []

    func localNode() throws -> LuaNode { me }
    func nodes() throws -> [LuaNode] { cluster }
    func node(id: Int) throws -> LuaNode? { cluster.first { $0.id == id } }

    func query(_ target: LuaQueryTarget, _ sql: String, parameters: [String?], readOnly: Bool, timeout: Double) throws -> LuaQueryResult {
        lock.withLock { queries.append((target, sql, parameters, readOnly)) }
        if let queryError { throw KeelHostError(queryError) }
        return respond?(target, sql, parameters, readOnly) ?? queryResult
    }

    func shell(_ command: String, environment: [String: String], timeout: Double) throws -> LuaShellResult {
        lock.withLock { shells.append((command, environment, timeout)) }
        return LuaShellResult(code: command == "false" ? 1 : 0, stdout: "ran: \(command)\n", stderr: environment["X"] ?? "")
    }

    func log(_ level: LuaLogLevel, _ message: String, hook: String) {
        lock.withLock { logged.append((level, message)) }
    }

    func event(_ name: String, successful: Bool, details: String, hook: String) throws {
        lock.withLock { events.append((name, successful, details)) }
    }
}

/// The sample hooks shipped in `hooks/` at the package root.
enum SampleHooks {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("hooks").path

    /// The text of `hooks/<name>`.
    static func source(_ name: String) throws -> String {
        try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
    }
}

/// A temporary folder for hook files, removed by `close()`.
final class ScriptFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "keel-lua-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `name` with `source` and returns its path.
    @discardableResult
    func write(_ name: String, _ source: String) throws -> String {
        let file = path + "/" + name
        try source.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}

extension LuaEngine {
    /// Calls `function` (or the returned function) of `path` with one context table.
    func run(_ path: String, _ function: String? = nil, context: LuaValue = [:], host: FakeHost = FakeHost(),
             budget: Double? = nil) async -> LuaCallResult {
        call(LuaHookReference(path: path, function: function), arguments: [context], host: host, label: "test", budget: budget)
    }
}

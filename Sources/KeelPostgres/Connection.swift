import CLibPQ
#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore

/// A libpq connection (`PGconn*`), owned by this object and closed when it is released.
///
/// Connection parameters come from the conninfo string and libpq's usual sources (`PG*` environment
/// variables, `~/.pgpass` or `passfile`, `connect_timeout`). Calls block the calling thread; a
/// `Connection` is used from one task at a time (it is not `Sendable`). A connection opened with
/// `ConnectionDeadlines` (keeld's) bounds every call on the client's clock as well
/// (`Connection+Deadline.swift`).
public final class Connection {
    private let conn: OpaquePointer
    /// The raw `PGconn*`, for extensions of this type only.
    var handle: OpaquePointer { conn }
    /// The conninfo with any password masked, for messages.
    public let target: String
    /// The client-side deadlines of every call, when opened with them.
    public let deadlines: ConnectionDeadlines?
    /// Set when a call passed its deadline: the socket was shut down and the connection is unusable.
    var broken = false

    /// Wraps an open `PGconn*` (the deadline-bounded initializer).
    init(handle: OpaquePointer, target: String, deadlines: ConnectionDeadlines?) {
        conn = handle
        self.target = target
        self.deadlines = deadlines
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
    }

    /// Opens a connection. Throws `PostgresError` with `kind == .connection` (exit 6) and libpq's message.
    public init(conninfo: String) throws(PostgresError) {
        target = Conninfo.masked(conninfo)
        guard let c = PQconnectdb(conninfo) else {
            throw PostgresError(kind: .connection, message: "out of memory", target: target)
        }
        guard PQstatus(c) == CONNECTION_OK else {
            let message = Connection.trimmed(PQerrorMessage(c))
            PQfinish(c)
            throw PostgresError(kind: .connection, message: message, target: target)
        }
        conn = c
        deadlines = nil
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
    }

    deinit { PQfinish(conn) }

    /// Result of `PQping`: whether a server answers at `conninfo`, without authenticating.
    public enum PingResult: Sendable, Equatable {
        /// The server is accepting connections.
        case ok
        /// The server is up but rejects connections (starting up, shutting down, in crash recovery).
        case reject
        /// No server answered.
        case noResponse
        /// The conninfo is invalid.
        case noAttempt
    }

    /// Asks whether a server runs at `conninfo` (`PQping`): cheap, no authentication, no session.
    public static func ping(_ conninfo: String) -> PingResult {
        switch PQping(conninfo) {
        case PQPING_OK: .ok
        case PQPING_REJECT: .reject
        case PQPING_NO_ATTEMPT: .noAttempt
        default: .noResponse
        }
    }

    /// Whether the connection is still usable (`PQstatus`).
    public var isOK: Bool { !broken && PQstatus(conn) == CONNECTION_OK }

    /// The server's major/minor version as an integer (`150018` for 15.18).
    public var serverVersion: Int { Int(PQserverVersion(conn)) }

    /// Runs `sql` with `$1…$n` bound to `parameters` (text format; `nil` is NULL) and returns the rows.
    /// Values are never pasted into the SQL text. Throws `PostgresError` (`.query`, SQLSTATE and server
    /// message; `.connection` when the connection is lost).
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresParameter)?] = []) throws(PostgresError) -> [Row] {
        if let deadlines { return try boundedQuery(sql, parameters, simple: false, timeout: deadlines.query) }
        let texts: [String?] = parameters.map { $0?.postgresText }
        var cStrings: [UnsafeMutablePointer<CChar>?] = texts.map { $0.flatMap { strdup($0) } }
        defer { cStrings.forEach { free($0) } }
        let result: OpaquePointer? = cStrings.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { params in
                PQexecParams(conn, sql, Int32(params.count), nil, params.baseAddress, nil, nil, 0)
            }
        }
        guard let result else {
            throw PostgresError(kind: isOK ? .query : .connection, message: Connection.trimmed(PQerrorMessage(conn)), target: target)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return Connection.rows(of: result)
        default:
            throw resultError(result)
        }
    }

    /// The error a failed result carries (SQLSTATE, message, detail, hint).
    func resultError(_ result: OpaquePointer) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let p = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: p)
        }
        let message = field("M") ?? Connection.trimmed(PQresultErrorMessage(result))
        return PostgresError(kind: isOK ? .query : .connection, sqlState: field("C"), message: message,
                             detail: field("D"), hint: field("H"), target: target)
    }

    /// Runs `command` with the simple-query protocol (`PQexec`), the only one a physical replication
    /// connection (`replication=true`) accepts, e.g. `IDENTIFY_SYSTEM`. Throws `PostgresError`.
    @discardableResult
    public func simpleQuery(_ command: String) throws(PostgresError) -> [Row] {
        if let deadlines { return try boundedQuery(command, [], simple: true, timeout: deadlines.query) }
        guard let result = PQexec(conn, command) else {
            throw PostgresError(kind: .connection, message: Connection.trimmed(PQerrorMessage(conn)), target: target)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return Connection.rows(of: result)
        default:
            throw PostgresError(kind: .query, message: Connection.trimmed(PQresultErrorMessage(result)), target: target)
        }
    }

    /// The first row of `query`, or `nil` when there is none.
    public func queryRow(_ sql: String, _ parameters: [(any PostgresParameter)?] = []) throws(PostgresError) -> Row? {
        try query(sql, parameters).first
    }

    /// Runs `body` inside `BEGIN … COMMIT`, rolling back when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try query("BEGIN")
        do {
            let value = try body()
            try query("COMMIT")
            return value
        } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
    }

    static func rows(of result: OpaquePointer) -> [Row] {
        let nColumns = PQnfields(result)
        let columns = (0..<nColumns).map { String(cString: PQfname(result, $0)) }
        let oids = (0..<nColumns).map { UInt32(PQftype(result, $0)) }
        return (0..<PQntuples(result)).map { r in
            Row(columns: columns, values: (0..<nColumns).map { c in
                if PQgetisnull(result, r, c) == 1 { return .null }
                return PostgresValue(text: String(cString: PQgetvalue(result, r, c)), oid: oids[Int(c)])
            })
        }
    }

    static func trimmed(_ p: UnsafePointer<CChar>?) -> String {
        guard let p else { return "unknown error" }
        return String(cString: p).trimmingWhitespace()
    }
}

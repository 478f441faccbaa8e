import Dispatch
import CLibPQ
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import KeelCore

/// Connections whose every call has a deadline on the client's clock: keeld's. A server whose kernel
/// still accepts and acknowledges (postmaster frozen by SIGSTOP, hung disk) never answers, so
/// `connect_timeout`, keepalives and `statement_timeout` alone cannot bound a call; here the connect is
/// nonblocking (`PQconnectStartParams` + `PQconnectPoll` against the deadline) and a query is sent
/// asynchronously and waited for with `poll`. A query past its deadline shuts the socket down (no
/// `PQcancel`: it would wait for the frozen server too) and the connection is unusable from then on.
extension Connection {
    /// Opens a connection bounded by `deadlines`: the derived keywords (`connect_timeout`, keepalives,
    /// `tcp_user_timeout`, `statement_timeout`) are added where the conninfo does not set them, and the
    /// attempt is abandoned after `deadlines.connect` seconds. Throws `PostgresError` (`.connection`).
    public convenience init(conninfo: String, deadlines: ConnectionDeadlines) throws(PostgresError) {
        let target = Conninfo.masked(conninfo)
        let existing = Set(((try? ConninfoSyntax.parse(conninfo)) ?? []).map(\.keyword))
        let extra = deadlines.conninfoParameters(existing: existing)
        // The defaults come before the expanded conninfo, so the operator's own values override them.
        let keys = extra.map(\.keyword) + ["dbname"]
        let values = extra.map(\.value) + [conninfo]
        let started = Connection.monotonic()
        let handle = try Connection.start(keys: keys, values: values, target: target)
        do {
            try Connection.finishConnect(handle, until: started + deadlines.connect, target: target)
        } catch {
            PQfinish(handle)
            throw error
        }
        PQsetnonblocking(handle, 1)
        self.init(handle: handle, target: target, deadlines: deadlines)
        if existing.contains("options") {
            try query("SELECT pg_catalog.set_config('statement_timeout', $1, false)", [String(deadlines.statementTimeoutMs)])
        }
    }

    /// Opens a connection bounded by `deadlines` when given, else a plain one.
    public static func open(_ conninfo: String, deadlines: ConnectionDeadlines?) throws(PostgresError) -> Connection {
        if let deadlines { return try Connection(conninfo: conninfo, deadlines: deadlines) }
        return try Connection(conninfo: conninfo)
    }

    /// Whether a server answers at `conninfo` (`PQping` with the derived `connect_timeout`), waited for
    /// at most `deadlines.connect` seconds on the client's clock (`.noResponse` after that).
    public static func ping(_ conninfo: String, deadlines: ConnectionDeadlines) -> PingResult {
        let existing = Set(((try? ConninfoSyntax.parse(conninfo)) ?? []).map(\.keyword))
        let extra = deadlines.conninfoParameters(existing: existing).filter { $0.keyword != "options" }
        let box = PingBox()
        let done = DispatchSemaphore(value: 0)
        // The thread ends by itself within connect_timeout; only the wait is cut short.
        let started = startThread(name: "keel-ping", stackSize: 0) {
            box.result = withCStrings(extra.map(\.keyword) + ["dbname"], extra.map(\.value) + [conninfo]) { keys, values in
                switch PQpingParams(keys, values, 1) {
                case PQPING_OK: PingResult.ok
                case PQPING_REJECT: .reject
                case PQPING_NO_ATTEMPT: .noAttempt
                default: .noResponse
                }
            }
            done.signal()
        }
        guard started else { return .noResponse }
        guard done.wait(timeout: .now() + deadlines.connect) == .success else { return .noResponse }
        return box.result ?? .noResponse
    }

    /// Runs `sql` asynchronously and waits at most `timeout` seconds for its results.
    func boundedQuery(_ sql: String, _ parameters: [(any PostgresParameter)?], simple: Bool,
                      timeout: Double) throws(PostgresError) -> [Row] {
        guard !broken else { throw PostgresError(kind: .connection, message: "connection dropped after a deadline", target: target) }
        let deadline = Connection.monotonic() + timeout
        let texts: [String?] = parameters.map { $0?.postgresText }
        var cStrings: [UnsafeMutablePointer<CChar>?] = texts.map { $0.flatMap { strdup($0) } }
        defer { cStrings.forEach { free($0) } }
        let sent: Int32 = cStrings.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { params in
                simple ? PQsendQuery(handle, sql)
                    : PQsendQueryParams(handle, sql, Int32(params.count), nil, params.baseAddress, nil, nil, 0)
            }
        }
        guard sent == 1 else {
            throw PostgresError(kind: isOK ? .query : .connection, message: Connection.trimmed(PQerrorMessage(handle)), target: target)
        }
        try awaitResults(until: deadline, timeout: timeout)
        return try collectResults()
    }

    /// Flushes the query and reads until a result is complete, or drops the connection at `deadline`.
    private func awaitResults(until deadline: Double, timeout: Double) throws(PostgresError) {
        while true {
            let flushed = PQflush(handle)
            if flushed < 0 { throw lost() }
            if flushed == 0 && PQisBusy(handle) == 0 { return }
            let events = Int16(POLLIN) | (flushed == 1 ? Int16(POLLOUT) : 0)
            switch Connection.wait(PQsocket(handle), events: events, until: deadline) {
            case .timedOut:
                drop()
                throw PostgresError(kind: .connection, message: "no answer within \(timeout) s (keeld's query deadline); "
                                    + "connection dropped", target: target)
            case .failed:
                throw lost()
            case .ready:
                if PQconsumeInput(handle) == 0 { throw lost() }
            }
        }
    }

    /// Reads every pending result; the first error wins.
    private func collectResults() throws(PostgresError) -> [Row] {
        var rows: [Row] = []
        var failure: PostgresError?
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                rows = Connection.rows(of: result)
            default:
                if failure == nil { failure = resultError(result) }
            }
        }
        if let failure { throw failure }
        return rows
    }

    private func lost() -> PostgresError {
        PostgresError(kind: .connection, message: Connection.trimmed(PQerrorMessage(handle)), target: target)
    }

    /// Makes the connection unusable at once: the socket is shut down (the next libpq call fails), and
    /// `isOK` is false from now on.
    func drop() {
        broken = true
        let fd = PQsocket(handle)
        if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    // MARK: - Connecting

    private static func start(keys: [String], values: [String], target: String) throws(PostgresError) -> OpaquePointer {
        let started: OpaquePointer? = withCStrings(keys, values) { k, v in PQconnectStartParams(k, v, 1) }
        guard let c = started else { throw PostgresError(kind: .connection, message: "out of memory", target: target) }
        guard PQstatus(c) != CONNECTION_BAD else {
            let message = trimmed(PQerrorMessage(c))
            PQfinish(c)
            throw PostgresError(kind: .connection, message: message, target: target)
        }
        return c
    }

    private static func finishConnect(_ c: OpaquePointer, until deadline: Double, target: String) throws(PostgresError) {
        var status = PGRES_POLLING_WRITING
        while true {
            switch status {
            case PGRES_POLLING_OK:
                return
            case PGRES_POLLING_FAILED:
                throw PostgresError(kind: .connection, message: trimmed(PQerrorMessage(c)), target: target)
            default:
                let events = Int16(status == PGRES_POLLING_READING ? POLLIN : POLLOUT)
                if case .timedOut = wait(PQsocket(c), events: events, until: deadline) {
                    throw PostgresError(kind: .connection, message: "timeout expired (keeld's connect deadline)", target: target)
                }
            }
            status = PQconnectPoll(c)
        }
    }

    // MARK: - Clock and poll

    enum WaitResult { case ready, timedOut, failed }

    /// Waits until `fd` is ready for `events` or `deadline` (monotonic seconds) passes.
    static func wait(_ fd: Int32, events: Int16, until deadline: Double) -> WaitResult {
        guard fd >= 0 else { return .failed }
        while true {
            let remaining = deadline - monotonic()
            if remaining <= 0 { return .timedOut }
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&pfd, 1, Int32(min(remaining * 1000, 60_000).rounded(.up)))
            if ready > 0 { return .ready }
            if ready < 0 && errno != EINTR { return .failed }
        }
    }

    /// Seconds on the monotonic clock.
    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// The answer of a `PQping` run on its own thread.
private final class PingBox: @unchecked Sendable {
    private let lock = Lock()
    private var value: Connection.PingResult?
    var result: Connection.PingResult? {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

/// Calls `body` with NULL-terminated C arrays of `keys` and `values`.
private func withCStrings<T>(_ keys: [String], _ values: [String],
                             _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
    let k: [UnsafeMutablePointer<CChar>?] = keys.map { strdup($0) } + [nil]
    let v: [UnsafeMutablePointer<CChar>?] = values.map { strdup($0) } + [nil]
    defer { (k + v).forEach { free($0) } }
    return k.withUnsafeBufferPointer { kp in
        v.withUnsafeBufferPointer { vp in
            kp.withMemoryRebound(to: UnsafePointer<CChar>?.self) { kr in
                vp.withMemoryRebound(to: UnsafePointer<CChar>?.self) { vr in body(kr.baseAddress!, vr.baseAddress!) }
            }
        }
    }
}

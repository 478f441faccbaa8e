import CLibPQ
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A libpq connection of a test client with a deadline on every statement: it sends the query
/// asynchronously and waits on the socket with `poll`, so a frozen or cut-off server costs the
/// client `timeout` seconds at most (the connection is then dropped, as a client with a timeout
/// would). Used by `Writer`; not for keel's own connections.
final class DeadlineConnection {
    private var conn: OpaquePointer?
    private let conninfo: String
    private let timeout: Double

    /// `conninfo` should carry `connect_timeout` (libpq's own deadline for connecting).
    init(conninfo: String, timeout: Double) {
        self.conninfo = conninfo
        self.timeout = timeout
    }

    deinit { drop() }

    /// Runs `sql`; true only when the server answered with success within the deadline.
    func execute(_ sql: String) -> Bool {
        guard let conn = connected() else { return false }
        guard PQsendQuery(conn, sql) == 1 else { drop(); return false }
        let deadline = Date().addingTimeInterval(timeout)
        var succeeded = false
        while true {
            if PQconsumeInput(conn) == 0 { drop(); return false }
            if PQisBusy(conn) == 0 {
                guard let result = PQgetResult(conn) else { return succeeded }
                let status = PQresultStatus(result)
                succeeded = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK
                PQclear(result)
                continue
            }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { drop(); return false }
            var descriptor = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, Int32(min(remaining, 1) * 1000) + 1)
        }
    }

    private func connected() -> OpaquePointer? {
        if let conn, PQstatus(conn) == CONNECTION_OK { return conn }
        drop()
        guard let fresh = PQconnectdb(conninfo) else { return nil }
        guard PQstatus(fresh) == CONNECTION_OK else { PQfinish(fresh); return nil }
        PQsetNoticeProcessor(fresh, { _, _ in }, nil)
        conn = fresh
        return fresh
    }

    private func drop() {
        if let conn { PQfinish(conn) }
        conn = nil
    }
}

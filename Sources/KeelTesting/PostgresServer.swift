import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A PostgreSQL instance of a `TestWorkspace`: a data directory, its port on 127.0.0.1 and its
/// log file. Every operation acts on this data directory or on the pid in its `postmaster.pid`.
public final class PostgresServer: @unchecked Sendable {
    /// The node name given by the test (also the data directory's last component).
    public let name: String
    /// The TCP port on 127.0.0.1 (as written in the server's configuration).
    public let port: Int
    /// The absolute path of the data directory.
    public let dataDirectory: String
    /// The server log file that `start()` passes to `pg_ctl -l` (`<dataDirectory>/../<name>.log`).
    public let logFile: String
    /// The directory holding the server's unix socket.
    public let socketDirectory: String
    /// The `host` of `conninfo`: 127.0.0.1, or a socket directory for a server without TCP.
    public let host: String

    let context: CommandContext

    init(name: String, port: Int, dataDirectory: String, logFile: String, socketDirectory: String, host: String = "127.0.0.1",
         context: CommandContext) {
        self.name = name
        self.port = port
        self.dataDirectory = dataDirectory
        self.logFile = logFile
        self.socketDirectory = socketDirectory
        self.host = host
        self.context = context
    }

    /// A libpq connection string, over TCP unless the server was made with a socket directory as `host`:
    /// `host=127.0.0.1 port=N user=… dbname=… connect_timeout=2`.
    public func conninfo(user: String = "repmgr", dbname: String = "repmgr") -> String {
        "host=\(host) port=\(port) user=\(user) dbname=\(dbname) connect_timeout=2"
    }

    /// Starts the server with `pg_ctl start -w` and waits until it accepts connections.
    /// Clears a stale lock left by `kill()` first. Throws with pg_ctl's output and the log's tail.
    public func start() throws {
        if let pid = Postmaster.recordedPID(dataDirectory: dataDirectory), !Postmaster.isAlive(pid) {
            Postmaster.clearStaleLockIfZombie(dataDirectory: dataDirectory, pid: pid)
        }
        let result = try context.run(
            "pg_ctl", ["start", "-D", dataDirectory, "-l", logFile, "-w", "-t", "90"], timeout: 120)
        guard result.succeeded else {
            throw HarnessError.commandFailed(
                command: result.commandLine, status: result.status,
                output: result.combinedOutput + "\n--- tail of \(logFile) ---\n" + logTail())
        }
    }

    /// Stops the server with `pg_ctl stop -m <mode> -w` (`smart`, `fast` or `immediate`).
    /// A server that is not running is left as it is; throws when it is still running after.
    public func stop(mode: String = "fast") throws {
        let pid = Postmaster.runningPID(dataDirectory: dataDirectory)
        guard pid != nil else { return }
        let result = try context.run(
            "pg_ctl", ["stop", "-D", dataDirectory, "-m", mode, "-w", "-t", "90"], timeout: 120)
        if let pid { Postmaster.reap([pid]) }
        if !result.succeeded, Postmaster.runningPID(dataDirectory: dataDirectory) != nil {
            throw HarnessError.commandFailed(command: result.commandLine, status: result.status, output: result.combinedOutput)
        }
    }

    /// Kills the postmaster with SIGKILL (by the pid in `postmaster.pid`) and its child processes,
    /// as a crashed host would, and waits until they are gone. `postmaster.pid` stays behind
    /// unless the dead postmaster lingers as an unreaped zombie (see `Postmaster.clearStaleLockIfZombie`).
    public func kill() throws {
        guard let pid = Postmaster.runningPID(dataDirectory: dataDirectory) else {
            throw HarnessError.setupFailed("server \(name) is not running (no live postmaster for \(dataDirectory))")
        }
        guard Postmaster.killTree(pid) else {
            throw HarnessError.setupFailed("postmaster \(pid) of \(name) survived SIGKILL")
        }
        Postmaster.clearStaleLockIfZombie(dataDirectory: dataDirectory, pid: pid)
    }

    /// Whether the server runs, as `pg_ctl status` reports it.
    public var isRunning: Bool {
        if let pid = Postmaster.recordedPID(dataDirectory: dataDirectory), !Postmaster.isAlive(pid) {
            Postmaster.clearStaleLockIfZombie(dataDirectory: dataDirectory, pid: pid)
        }
        guard let result = try? context.run("pg_ctl", ["status", "-D", dataDirectory], timeout: 30) else {
            return false
        }
        return result.succeeded
    }

    /// The pid of the running postmaster, if any.
    public var postmasterPID: Int32? {
        Postmaster.runningPID(dataDirectory: dataDirectory)
    }

    /// Runs `sql` with `psql -X -A -t -q -v ON_ERROR_STOP=1` over TCP as user repmgr and
    /// returns its stdout, trimmed. Several result rows come back one per line, columns
    /// separated by `|`. Throws `HarnessError.commandFailed` with stderr on failure.
    public func psql(_ sql: String, dbname: String = "repmgr") throws -> String {
        try psql(sql, user: "repmgr", dbname: dbname)
    }

    /// Like `psql(_:dbname:)` as another database user.
    public func psql(_ sql: String, user: String, dbname: String = "repmgr", timeout: Double = 60) throws -> String {
        let result = try context.run(
            "psql", ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo(user: user, dbname: dbname), "-c", sql],
            timeout: timeout)
        guard result.succeeded else {
            throw HarnessError.commandFailed(command: "psql on \(name): \(sql)", status: result.status, output: result.stderr)
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Appends lines to `postgresql.conf` (later settings win); takes effect at the next start
    /// or reload. Useful to give a cloned standby its own port.
    public func appendConfiguration(_ lines: String) throws {
        let path = dataDirectory + "/postgresql.conf"
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw HarnessError.setupFailed("cannot open \(path)")
        }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data(("\n" + lines + "\n").utf8))
    }

    /// The server log written so far (empty when there is none).
    public func log() -> String {
        guard let data = FileManager.default.contents(atPath: logFile) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The last `lines` lines of the server log.
    public func logTail(lines: Int = 40) -> String {
        log().split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

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
import Logging

/// swift-log handler for the `keel` CLI and `keeld`: one line per message, `LEVEL: message` on stderr as
/// repmgr prints them (`NOTICE: standby clone complete`), or `[timestamp] [LEVEL] message` appended to a
/// log file (`--log-to-file`, `log_file`). Levels map to repmgr's: trace→DEBUG, notice→NOTICE, critical→CRIT.
public struct ConsoleLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let sink: Sink

    /// Where lines go: standard error, or a file opened for appending (shared by copies of the handler).
    public final class Sink: @unchecked Sendable {
        private let lock = Lock()
        /// The file descriptor written to (2: standard error, never closed here).
        private var fd: Int32
        private let timestamped: Bool
        private let path: String?
        public static let standardError = Sink(fd: 2, timestamped: false)
        /// Standard error with `[timestamp] [LEVEL]` prefixes (keeld in the foreground).
        public static let standardErrorTimestamped = Sink(fd: 2, timestamped: true)

        init(fd: Int32, timestamped: Bool, path: String? = nil) {
            self.fd = fd
            self.timestamped = timestamped
            self.path = path
        }

        /// Reopens the file (after logrotate moved it: keeld's SIGHUP). No effect on standard error; a file
        /// that cannot be opened any more keeps the current handle.
        public func reopen() {
            guard let path, let fresh = try? Self.openForAppending(path) else { return }
            lock.withLock {
                if fd != 2 { close(fd) }
                fd = fresh
            }
        }

        deinit {
            if fd != 2 { close(fd) }
        }

        /// Opens `path` for appending (creating it, mode 0640); `nil` when it cannot be opened.
        public static func file(_ path: String) -> Sink? {
            try? openFile(path)
        }

        /// Opens `path` for appending (creating it, mode 0640). Throws `KeelError` 1 saying why it cannot be
        /// used. In a directory others can write to (such as /tmp), a symbolic link is never followed and a
        /// file of another user is refused: someone else could have planted it.
        public static func openFile(_ path: String) throws -> Sink {
            Sink(fd: try openForAppending(path), timestamped: true, path: path)
        }

        private static func openForAppending(_ path: String) throws -> Int32 {
            let directory = PathString.deletingLastComponent(path)
            var dirInfo = stat()
            let shared = stat(directory.isEmpty ? "." : directory, &dirInfo) == 0 && dirInfo.st_mode & 0o002 != 0
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | (shared ? O_NOFOLLOW : 0), 0o640)
            guard fd >= 0 else {
                let failure = errno
                var link = stat()
                let isLink = lstat(path, &link) == 0 && link.st_mode & S_IFMT == S_IFLNK
                let reason = shared && (failure == ELOOP || isLink) ? "it is a symbolic link in a directory others can write to"
                    : String(cString: strerror(failure))
                throw KeelError(.badConfig, "log file \"\(path)\" cannot be opened: \(reason)")
            }
            var info = stat()
            let regular = fstat(fd, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
            if !regular || (shared && info.st_uid != geteuid()) {
                close(fd)
                throw KeelError(.badConfig, "log file \"\(path)\" cannot be used: "
                                    + (regular ? "it belongs to another user, in a directory others can write to" : "it is not a regular file"))
            }
            return fd
        }

        func write(level: String, _ message: String) {
            let line: String
            if timestamped {
                line = "[\(Timestamp.now())] [\(level)] \(message)\n"
            } else {
                line = "\(level): \(message)\n"
            }
            lock.lock()
            defer { lock.unlock() }
            writeAll(fd: fd, line)
        }
    }

    public init(level: Logger.Level, sink: Sink = .standardError) {
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var text = "\(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in ["detail", "hint"] {
            if let value = merged[key] { text += "\n\(key.uppercased()): \(value)" }
        }
        sink.write(level: Self.label(event.level), text)
    }

    /// repmgr's level name for a swift-log level.
    public static func label(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "DEBUG"
        case .info: "INFO"
        case .notice: "NOTICE"
        case .warning: "WARNING"
        case .error: "ERROR"
        case .critical: "CRIT"
        }
    }

    /// The swift-log level for a repmgr `log_level` value (DEBUG, INFO, NOTICE, WARNING, ERROR, ALERT, CRIT, EMERG).
    public static func level(_ name: String) -> Logger.Level? {
        switch name.uppercased() {
        case "DEBUG": .debug
        case "INFO": .info
        case "NOTICE": .notice
        case "WARNING": .warning
        case "ERROR": .error
        case "ALERT", "CRIT", "EMERG": .critical
        default: nil
        }
    }
}

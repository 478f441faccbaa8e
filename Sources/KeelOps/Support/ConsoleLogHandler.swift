import Foundation
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
        private let lock = NSLock()
        private var handle: FileHandle
        private let timestamped: Bool
        private let path: String?
        public static let standardError = Sink(handle: FileHandle.standardError, timestamped: false)
        /// Standard error with `[timestamp] [LEVEL]` prefixes (keeld in the foreground).
        public static let standardErrorTimestamped = Sink(handle: FileHandle.standardError, timestamped: true)

        init(handle: FileHandle, timestamped: Bool, path: String? = nil) {
            self.handle = handle
            self.timestamped = timestamped
            self.path = path
        }

        /// Reopens the file (after logrotate moved it: keeld's SIGHUP). No effect on standard error.
        public func reopen() {
            guard let path else { return }
            if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
            guard let fresh = FileHandle(forWritingAtPath: path) else { return }
            fresh.seekToEndOfFile()
            lock.withLock {
                try? handle.close()
                handle = fresh
            }
        }

        /// Opens `path` for appending (creating it); `nil` when it cannot be opened.
        public static func file(_ path: String) -> Sink? {
            if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
            guard let handle = FileHandle(forWritingAtPath: path) else { return nil }
            handle.seekToEndOfFile()
            return Sink(handle: handle, timestamped: true, path: path)
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
            handle.write(Data(line.utf8))
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

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
import KeelCore

/// The last lines of the local server's log, shown when a start or restart fails (pg_ctl itself only
/// says "could not start server; examine the log output"): `<data_directory>/log/keel-pg_ctl.log` when
/// keel's own pg_ctl command line wrote it, else the stderr log named in `current_logfiles` (the logging
/// collector's). Only the end of the file is read.
public enum ServerLogTail {
    /// At most this many bytes are read from the end of the log.
    static let maxBytes = 16 * 1024

    /// The log file the server wrote its startup to, when keel can tell; `nil` otherwise.
    public static func path(config: KeelConfig, action: String) -> String? {
        let dataDirectory = config.dataDirectory
        if config.string("service_\(action)_command").isEmpty, !ShellWords.split(config.string("pg_ctl_options")).contains("-l") {
            return dataDirectory + "/log/keel-pg_ctl.log"
        }
        guard let text = readEnd(of: dataDirectory + "/current_logfiles", bytes: 4096) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("stderr ") {
            let file = String(line.dropFirst("stderr ".count)).trimmingWhitespace()
            return file.hasPrefix("/") ? file : PathString.join(dataDirectory, file)
        }
        return nil
    }

    /// "last lines of FILE:" and up to `lines` lines, for a failed `action` (`start`, `restart`); `nil`
    /// when there is no log to show.
    public static func describe(config: KeelConfig, action: String, lines: Int = 20) -> String? {
        guard action == "start" || action == "restart", let file = path(config: config, action: action),
              let text = readEnd(of: file, bytes: maxBytes) else { return nil }
        let tail = lastLines(text, lines)
        return tail.isEmpty ? nil : "last lines of \"\(file)\":\n" + tail
    }

    /// The last `count` non-empty lines of `text`.
    static func lastLines(_ text: String, _ count: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: true).suffix(count).joined(separator: "\n")
    }

    /// Up to `bytes` bytes from the end of the regular file at `path` (a cut first line dropped); `nil`
    /// when it cannot be read.
    static func readEnd(of path: String, bytes: Int) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        let size = Int(info.st_size)
        let offset = max(0, size - bytes)
        var buffer = [UInt8](repeating: 0, count: size - offset)
        let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard got >= 0 else { return nil }
        var text = String(decoding: buffer.prefix(got), as: UTF8.self)
        if offset > 0, let newline = text.firstIndex(of: "\n") { text = String(text[text.index(after: newline)...]) }
        return text
    }
}

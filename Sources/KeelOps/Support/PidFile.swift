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

/// keeld's pid file: written at start, removed at a clean stop. A file left by a daemon that is no
/// longer running (stale) is replaced; one whose process still runs keeld stops the start (exit 3,
/// repmgr's ERR_BAD_PIDFILE). As repmgrd, by default in `$TMPDIR` (or /tmp), named per node
/// (`keeld-<node_id>.pid`) so that several nodes can share a host.
public struct PidFile: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The default path for `nodeID`: `repmgrd_pid_file` when set, else `$TMPDIR/keeld-<node_id>.pid` —
    /// unless another user already holds that name in the shared directory (planted to keep keeld from
    /// starting): then `<home>/.keeld-<node_id>.pid`, a directory others cannot write. keeld and
    /// `daemon stop|status` both ask here, so they agree on the file. `temporaryDirectory` and `home`
    /// default to `$TMPDIR` (or /tmp) and this user's home directory.
    public static func defaultPath(config: KeelConfig, temporaryDirectory: String? = nil, home: String? = nil) -> String {
        let configured = config.string("repmgrd_pid_file")
        if !configured.isEmpty { return configured }
        let dir = temporaryDirectory ?? ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let shared = PathString.join(dir, "keeld-\(config.nodeID).pid")
        var info = stat()
        guard lstat(shared, &info) == 0, info.st_uid != geteuid() else { return shared }
        let own = home ?? getpwuid(geteuid()).flatMap { String(validatingCString: $0.pointee.pw_dir) } ?? FileManager.default.homeDirectoryForCurrentUser.path
        return PathString.join(own, ".keeld-\(config.nodeID).pid")
    }

    /// The pid recorded in the file when that process is alive and is a keeld; `nil` otherwise.
    public func runningPID() -> Int32? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let pid = Int32(text.trimmingWhitespace()), pid > 0, pid != getpid() else { return nil }
        guard kill(pid, 0) == 0 || errno == EPERM else { return nil }
        // pids are reused: only a live keeld counts (a zombie or another program does not).
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        if status.contains("State:\tZ") { return nil }
        let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
        let argv0 = String(decoding: cmdline.prefix { $0 != 0 }, as: UTF8.self)
        return PathString.lastComponent(argv0) == "keeld" ? pid : nil
    }

    /// Writes this process's pid. Throws `KeelError` 3 when another keeld holds the file, or it cannot be written.
    public func acquire() throws {
        if let other = runningPID() {
            throw KeelError(.badPidFile, "keeld is already running with PID \(other) (pid file \"\(path)\")",
                            hint: "stop it first, or use --pid-file to run another daemon")
        }
        var info = stat()
        if lstat(path, &info) == 0, info.st_uid != geteuid() {
            throw KeelError(.badPidFile, "pid file \"\(path)\" belongs to another user (uid \(info.st_uid)) and cannot be replaced",
                            hint: "someone else may have created it to keep keeld from starting: remove it as its owner or root, "
                                + "or set repmgrd_pid_file (or --pid-file) to a path in a directory of your own")
        }
        do {
            try "\(getpid())\n".write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw KeelError(.badPidFile, "unable to write pid file \"\(path)\"", detail: "\(error)")
        }
    }

    /// Removes the file when it still holds this process's pid.
    public func release() {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              Int32(text.trimmingWhitespace()) == getpid() else { return }
        try? FileManager.default.removeItem(atPath: path)
    }
}

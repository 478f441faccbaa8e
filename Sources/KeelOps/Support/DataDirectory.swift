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

/// Facts about a PostgreSQL data directory on this host, read from the file system.
public struct DataDirectory: Sendable {
    public let path: String

    public init(_ path: String) { self.path = path }

    /// True when the directory does not exist or holds no entries.
    public var isEmpty: Bool {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else { return true }
        return entries.isEmpty
    }

    public var exists: Bool { FileManager.default.fileExists(atPath: path) }

    /// Why the path cannot hold a data directory (a file is there, or neither it nor its parent is
    /// writable by this user), or `nil` when it can.
    public var unusableReason: String? {
        var isDirectory = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if !isDirectory { return "\"\(path)\" exists and is not a directory" }
            return access(path, W_OK) == 0 ? nil : "\"\(path)\" is not writable by this user"
        }
        let parent = PathString.deletingLastComponent(path)
        return access(parent.isEmpty ? "." : parent, W_OK) == 0 ? nil : "its parent directory \"\(parent)\" is missing or not writable by this user"
    }

    /// The postmaster's pid from `postmaster.pid` when that process is alive (checked with `kill(pid, 0)`)
    /// and is this directory's postmaster: a server killed with SIGKILL leaves its `postmaster.pid` behind,
    /// and its pid may since belong to another process. Where `/proc` tells, the process must work in this
    /// directory (a postmaster's working directory is its data directory) or at least be a postgres process,
    /// and not a zombie.
    public var runningPostmasterPID: Int32? {
        guard let text = try? String(contentsOfFile: path + "/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = Int32(first.trimmingSpaces()) else { return nil }
        guard kill(pid, 0) == 0 || errno == EPERM else { return nil }
        let fm = FileManager.default
        // A killed postmaster its parent has not reaped yet is a zombie: not running.
        if ProcessStat.read(pid)?.hasEnded == true { return nil }
        if let cwd = try? fm.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd") {
            return cwd == path || cwd == PathString.resolvingSymlinks(path) ? pid : nil
        }
        if let cmdline = fm.contents(atPath: "/proc/\(pid)/cmdline"), !cmdline.isEmpty {
            return String(decoding: cmdline, as: UTF8.self).contains("postgres") ? pid : nil
        }
        return pid
    }

    /// Removes a `postmaster.pid` whose process is not this directory's running postmaster (see
    /// `runningPostmasterPID`): PostgreSQL itself refuses to start while the pid of a killed postmaster
    /// still names a process, e.g. a zombie nobody has reaped. The socket's lock file it names (lines 4
    /// and 5: port and socket directory) goes too when it holds the same pid. Returns the pid it named,
    /// `nil` when nothing was removed.
    public func removeStaleLockFile() -> Int32? {
        let lockFile = path + "/postmaster.pid"
        guard runningPostmasterPID == nil, let text = try? String(contentsOfFile: lockFile, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingSpaces() }
        guard let pid = lines.first.flatMap({ Int32($0) }), (try? FileManager.default.removeItem(atPath: lockFile)) != nil else { return nil }
        if lines.count > 4, !lines[3].isEmpty, !lines[4].isEmpty {
            let socketLock = lines[4] + "/.s.PGSQL.\(lines[3]).lock"
            if let holder = try? String(contentsOfFile: socketLock, encoding: .utf8),
               holder.split(separator: "\n").first.flatMap({ Int32($0.trimmingSpaces()) }) == pid {
                try? FileManager.default.removeItem(atPath: socketLock)
            }
        }
        return pid
    }

    /// Removes everything inside the directory (the directory itself stays, mode 0700).
    public func removeContents() throws {
        for entry in try FileManager.default.contentsOfDirectory(atPath: path) {
            try FileManager.default.removeItem(atPath: path + "/" + entry)
        }
    }

    /// Makes the standby configuration of PostgreSQL 12+: an empty `standby.signal` and, in
    /// `postgresql.auto.conf`, `settings` (e.g. `primary_conninfo`, `primary_slot_name`) replacing any earlier
    /// lines for the same names. Values are written as quoted GUC strings; the file is left mode 0600.
    public func writeStandbyConfiguration(_ settings: [(name: String, value: String)]) throws {
        let autoConf = path + "/postgresql.auto.conf"
        let existing = (try? String(contentsOfFile: autoConf, encoding: .utf8)) ?? "# Do not edit this file manually!\n# It will be overwritten by the ALTER SYSTEM command.\n"
        let names = Set(settings.map(\.name))
        var lines = existing.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { line in
            let name = line.split(whereSeparator: { $0 == "=" || $0 == " " }).first.map(String.init) ?? ""
            return !names.contains(name)
        }
        while lines.last == "" { lines.removeLast() }
        for (name, value) in settings {
            // GUC file syntax: a backslash escapes inside quotes, a quote is doubled.
            let quoted = value.replacing("\\", with: "\\\\").replacing("'", with: "''")
            lines.append("\(name) = '\(quoted)'")
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: autoConf, atomically: true, encoding: .utf8)
        // As PostgreSQL writes it: readable by the server's user only (primary_conninfo may hold a password).
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: autoConf)
        FileManager.default.createFile(atPath: path + "/standby.signal", contents: Data(), attributes: [.posixPermissions: 0o600])
    }
}

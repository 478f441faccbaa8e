import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds, checks and kills PostgreSQL postmasters by the pid in their data directory's
/// `postmaster.pid` — never by process name.
enum Postmaster {
    /// The postmaster pid recorded in `<dataDirectory>/postmaster.pid`, if the file exists.
    static func recordedPID(dataDirectory: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n", omittingEmptySubsequences: false).first,
              let pid = pid_t(first.trimmingCharacters(in: .whitespaces)), pid > 0
        else { return nil }
        return pid
    }

    /// Whether `pid` names a live process. A zombie (exited, not yet reaped) counts as dead:
    /// in some sandboxes PID 1 never reaps orphans, so a killed postmaster stays a zombie.
    static func isAlive(_ pid: pid_t) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0 && errno != EPERM { return false }
        return processState(pid) != "Z"
    }

    /// Whether `pid` names a zombie process (Linux; false elsewhere).
    static func isZombie(_ pid: pid_t) -> Bool {
        processState(pid) == "Z"
    }

    /// The one-letter state from `/proc/<pid>/stat` (Linux), or nil.
    static func processState(_ pid: pid_t) -> Character? {
        statFields(pid)?.first.flatMap { $0.first }
    }

    /// The fields of `/proc/<pid>/stat` after the command name: state, ppid, pgrp, …
    static func statFields(_ pid: pid_t) -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    /// The pids whose parent is `pid` (Linux; empty elsewhere).
    static func children(of pid: pid_t) -> [pid_t] {
        ProcessTable.pids { $0.count > 1 && pid_t($0[1]) == pid }
    }

    /// Whether live process `pid` is the postmaster of `dataDirectory`: its working directory
    /// is that directory (a postmaster changes into it), or, when that cannot be read, its
    /// command line names postgres. True where there is no /proc to ask.
    static func belongs(_ pid: pid_t, to dataDirectory: String) -> Bool {
        guard FileManager.default.fileExists(atPath: "/proc/self/stat") else { return true }
        if let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd") {
            return resolved(cwd) == resolved(dataDirectory)
        }
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let commandLine = String(decoding: data, as: UTF8.self)
        return commandLine.contains("postgres") || commandLine.contains("postmaster")
    }

    /// The live postmaster of `dataDirectory`, if any.
    static func runningPID(dataDirectory: String) -> pid_t? {
        guard let pid = recordedPID(dataDirectory: dataDirectory), isAlive(pid),
              belongs(pid, to: dataDirectory)
        else { return nil }
        return pid
    }

    /// SIGKILLs the postmaster `pid` and the children it had (backends, walsender, …), then
    /// waits up to `timeout` seconds until they are gone. Returns whether they all died.
    @discardableResult
    static func killTree(_ pid: pid_t, timeout: Double = 10) -> Bool {
        let children = children(of: pid)
        _ = kill(pid, SIGKILL)
        for child in children { _ = kill(child, SIGKILL) }
        let everyone = [pid] + children
        do {
            try waitFor("postmaster \(pid) and its children to die", timeout: timeout, interval: 0.05) {
                reap(everyone)
                return !everyone.contains(where: isAlive)
            }
            return true
        } catch {
            return false
        }
    }

    /// Reaps those of `pids` that are exited children of this process (with a subreaper or
    /// when the test process started them directly); harmless for any other pid.
    static func reap(_ pids: [pid_t]) {
        for pid in pids where isZombie(pid) {
            var status: Int32 = 0
            _ = waitpid(pid, &status, WNOHANG)
        }
    }

    /// After the postmaster of `dataDirectory` was killed: when its pid is only a zombie that
    /// nobody reaps (PID 1 of some sandboxes never reaps orphans), its lock files —
    /// `postmaster.pid` and the unix socket's `.s.PGSQL.<port>.lock` — would keep PostgreSQL and
    /// `pg_ctl` believing it runs (they test the pid with `kill(pid, 0)`), so they are removed,
    /// as a reboot would. Lock files whose pid is really gone are left alone, as after a crash.
    static func clearStaleLockIfZombie(dataDirectory: String, pid: pid_t) {
        reap([pid])
        guard isZombie(pid), recordedPID(dataDirectory: dataDirectory) == pid else { return }
        let lines = ((try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8)) ?? "")
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.count > 4, let port = Int(lines[3].trimmingCharacters(in: .whitespaces)) {
            let socketDirectory = lines[4].trimmingCharacters(in: .whitespaces)
            let socketLock = socketDirectory + "/.s.PGSQL.\(port).lock"
            if !socketDirectory.isEmpty,
               let text = try? String(contentsOfFile: socketLock, encoding: .utf8),
               pid_t(text.split(separator: "\n").first?.trimmingCharacters(in: .whitespaces) ?? "") == pid {
                try? FileManager.default.removeItem(atPath: socketLock)
            }
        }
        try? FileManager.default.removeItem(atPath: dataDirectory + "/postmaster.pid")
    }

    /// The path with symlinks resolved, for comparisons.
    static func resolved(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
    }
}

/// Queries of the Linux process table (`/proc`); empty answers elsewhere.
enum ProcessTable {
    /// The pids whose `/proc/<pid>/stat` fields after the command name (state, ppid, pgrp, …)
    /// satisfy `matches`.
    static func pids(where matches: ([Substring]) -> Bool) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), let fields = Postmaster.statFields(pid), matches(fields) else { return nil }
            return pid
        }
    }

    /// The live (non-zombie) members of process group `group`.
    static func members(ofGroup group: pid_t) -> [pid_t] {
        pids { $0.count > 2 && $0[0] != "Z" && pid_t($0[2]) == group }
    }
}

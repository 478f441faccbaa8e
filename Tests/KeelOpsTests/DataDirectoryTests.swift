import Foundation
import Testing
import KeelTesting
@testable import KeelOps

/// What a `postmaster.pid` left behind by a killed server means: a pid that names no process, or a process
/// that is not a postmaster working in this directory, is not a running server and its lock file may go.
@Suite("stale postmaster.pid of a crashed server")
struct DataDirectoryTests {
    func directory(withPID pid: Int32) throws -> String {
        let path = NSTemporaryDirectory() + "keel-datadir-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try "\(pid)\n\(path)\n".write(toFile: path + "/postmaster.pid", atomically: true, encoding: .utf8)
        return path
    }

    @Test("a pid naming no process, or a live process working elsewhere (this test), is not a running postmaster; the lock file is removed")
    func stale() throws {
        for pid in [Int32(Int32.max - 1), getpid()] {
            let path = try directory(withPID: pid)
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(DataDirectory(path).runningPostmasterPID == nil)
            #expect(DataDirectory(path).removeStaleLockFile() == pid)
            #expect(!FileManager.default.fileExists(atPath: path + "/postmaster.pid"))
        }
    }

    @Test("the socket lock file the stale postmaster.pid names goes too when it holds the same pid")
    func socketLock() throws {
        let path = try directory(withPID: 0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pid = Int32(Int32.max - 2)
        try "\(pid)\n\(path)\n1700000000\n5499\n\(path)\n127.0.0.1\n".write(toFile: path + "/postmaster.pid", atomically: true, encoding: .utf8)
        try "\(pid)\n\(path)\n".write(toFile: path + "/.s.PGSQL.5499.lock", atomically: true, encoding: .utf8)
        #expect(DataDirectory(path).removeStaleLockFile() == pid)
        #expect(!FileManager.default.fileExists(atPath: path + "/.s.PGSQL.5499.lock"))
    }

    @Test("a live process working in the directory counts as its postmaster; its lock file stays")
    func live() throws {
        let path = try directory(withPID: 0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let child = try ChildLauncher.launch(LaunchRequest(executable: "/bin/sleep", arguments: ["30"], currentDirectory: path))
        let monitor = ChildMonitor(pid: child.pid)
        defer { kill(child.pid, SIGKILL); monitor.wait(timeout: 10) }
        try "\(child.pid)\n".write(toFile: path + "/postmaster.pid", atomically: true, encoding: .utf8)
        #expect(DataDirectory(path).runningPostmasterPID == child.pid)
        #expect(DataDirectory(path).removeStaleLockFile() == nil)
        #expect(FileManager.default.fileExists(atPath: path + "/postmaster.pid"))
    }

    @Test("a killed postmaster its parent has not reaped yet (a zombie) is not running: its lock file is removed, since PostgreSQL would refuse to start")
    func zombie() throws {
        let path = try directory(withPID: 0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let child = try ChildLauncher.launch(LaunchRequest(executable: "/bin/true", arguments: [], currentDirectory: path))
        let monitor = ChildMonitor(pid: child.pid)
        defer { monitor.wait(timeout: 10) }
        try waitFor("pid \(child.pid) a zombie", timeout: 10) {
            let stat = (try? String(contentsOfFile: "/proc/\(child.pid)/stat", encoding: .utf8)) ?? ""
            return stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") == true
        }
        try "\(child.pid)\n\(path)\n".write(toFile: path + "/postmaster.pid", atomically: true, encoding: .utf8)
        #expect(kill(child.pid, 0) == 0, "a zombie still answers kill(pid, 0), as PostgreSQL's lock-file check sees it")
        #expect(DataDirectory(path).runningPostmasterPID == nil)
        #expect(DataDirectory(path).removeStaleLockFile() == child.pid)
        #expect(!FileManager.default.fileExists(atPath: path + "/postmaster.pid"))
    }
}

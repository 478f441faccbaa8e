import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A long-running command started by `TestWorkspace.spawn` (e.g. a `keeld` daemon), writing
/// stdout and stderr to a log file. Stopped by its pid / process group, never by name; the
/// workspace stops it on `close()` if the test did not.
///
/// Launched with `ChildLauncher` (posix_spawn), not Foundation's `Process`, whose `run()` on
/// Linux can read past the end of a glibc directory buffer and crash the test process.
public final class BackgroundProcess: @unchecked Sendable {
    /// The name given to `spawn` (also the log file's base name).
    public let name: String
    /// The file receiving the command's stdout and stderr.
    public let logFile: String
    /// The pid of the launched process (`runuser` when running as the server user); it leads
    /// its own process group, which also holds the command `runuser` forked.
    public let pid: Int32
    /// The command as launched, for messages.
    public let commandLine: String

    private let monitor: ChildMonitor

    /// Launches `request` (see `ChildLauncher`: its own process group, an empty signal mask).
    init(name: String, logFile: String, commandLine: String, request: LaunchRequest) throws {
        let child = try ChildLauncher.launch(request)
        self.name = name
        self.logFile = logFile
        self.commandLine = commandLine
        pid = child.pid
        monitor = ChildMonitor(pid: child.pid)
    }

    /// Whether the process has not exited yet.
    public var isRunning: Bool { monitor.isRunning }

    /// The exit status once the process has exited (128 + signal when killed by a signal).
    public var status: Int32? { monitor.status }

    /// Everything the process wrote so far.
    public func output() -> String {
        guard let data = FileManager.default.contents(atPath: logFile) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Sends `signal` (e.g. SIGHUP for a reload) to the command: to the members of its process
    /// group other than the launched process when there are any (so that `runuser`, which
    /// would forward the signal and then wait two seconds, just sees its child exit), else to
    /// the launched process.
    public func signal(_ signal: Int32) {
        let members = ProcessTable.members(ofGroup: pid).filter { $0 != pid }
        if members.isEmpty {
            if isRunning { _ = kill(pid, signal) }
        } else {
            for member in members { _ = kill(member, signal) }
        }
    }

    /// Stops the process: SIGTERM (see `signal(_:)`), then SIGKILL to the whole process group
    /// after `timeout` seconds. Returns the exit status. Idempotent.
    @discardableResult
    public func terminate(timeout: Double = 10) -> Int32? {
        if isRunning {
            signal(SIGTERM)
            if monitor.wait(timeout: timeout) == nil {
                ProcessRunner.signalGroup(pid, SIGKILL)
                if isRunning { _ = kill(pid, SIGKILL) }
                _ = monitor.wait(timeout: 10)
            }
        }
        // runuser may exit before the command it forked: make sure nothing of the group is left.
        ProcessRunner.signalGroup(pid, SIGKILL)
        return status
    }

    /// Waits until the process exits by itself; returns its status, or nil on timeout.
    public func waitForExit(timeout: Double = 30) -> Int32? {
        monitor.wait(timeout: timeout)
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A long-running command started by `TestWorkspace.spawn` (e.g. a `keeld` daemon), writing
/// stdout and stderr to a log file. Stopped by its pid / process group, never by name; the
/// workspace stops it on `close()` if the test did not.
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

    private let process: Process
    private let state: ExitState
    private let leadsGroup: Bool

    init(name: String, logFile: String, commandLine: String, process: Process) throws {
        let state = ExitState()
        process.terminationHandler = { finished in
            state.record(finished.terminationReason == .exit
                ? finished.terminationStatus : 128 + finished.terminationStatus)
        }
        do {
            try process.run()
        } catch {
            throw HarnessError.launchFailed(command: commandLine, reason: String(describing: error))
        }
        self.name = name
        self.logFile = logFile
        self.commandLine = commandLine
        self.process = process
        self.state = state
        pid = process.processIdentifier
        leadsGroup = getpgid(pid) == pid
    }

    /// Whether the process has not exited yet.
    public var isRunning: Bool { state.status == nil }

    /// The exit status once the process has exited (128 + signal when killed by a signal).
    public var status: Int32? { state.status }

    /// Everything the process wrote so far.
    public func output() -> String {
        guard let data = FileManager.default.contents(atPath: logFile) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Sends `signal` (e.g. SIGHUP for a reload) to the process and its process group.
    public func signal(_ signal: Int32) {
        guard isRunning else { return }
        send(signal)
    }

    private func send(_ signal: Int32) {
        if leadsGroup { ProcessRunner.signalGroup(pid, signal) }
        if isRunning { _ = kill(pid, signal) }
    }

    /// Stops the process: SIGTERM to its process group, then SIGKILL after `timeout` seconds.
    /// Returns the exit status. Idempotent.
    @discardableResult
    public func terminate(timeout: Double = 10) -> Int32? {
        if isRunning {
            send(SIGTERM)
            if state.exited.wait(timeout: .now() + .milliseconds(Int(max(0, timeout) * 1000))) == .timedOut {
                send(SIGKILL)
                if state.exited.wait(timeout: .now() + .seconds(10)) == .success { state.exited.signal() }
            } else {
                state.exited.signal()
            }
        }
        // runuser may exit before the command it forked: make sure nothing of the group is left.
        if leadsGroup { ProcessRunner.signalGroup(pid, SIGKILL) }
        return status
    }

    /// Waits until the process exits by itself; returns its status, or nil on timeout.
    public func waitForExit(timeout: Double = 30) -> Int32? {
        if state.exited.wait(timeout: .now() + .milliseconds(Int(max(0, timeout) * 1000))) == .success {
            state.exited.signal()
        }
        return status
    }
}

/// The exit status of a background process, set once from Foundation's termination handler.
private final class ExitState: @unchecked Sendable {
    let exited = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var exitStatus: Int32?

    var status: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return exitStatus
    }

    func record(_ status: Int32) {
        lock.lock()
        exitStatus = status
        lock.unlock()
        exited.signal()
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs one child process to completion with `ChildLauncher` (posix_spawn; not Foundation's
/// `Process`, whose `run()` on Linux can read past a glibc directory buffer and crash the test
/// process), capturing stdout and stderr concurrently (so a chatty child never blocks on a full
/// pipe) and killing it when it outlives its deadline.
///
/// The child leads its own process group, so a timeout kills the whole group (e.g. `runuser`
/// and the command it forked). Servers started by `pg_ctl` call `setsid()` and are not in that
/// group: they are never killed here.
struct ProcessRunner {
    /// Absolute path of the executable.
    var executable: String
    /// Arguments, without the executable.
    var arguments: [String]
    /// The complete environment of the child; nil inherits the test process's environment.
    var environment: [String: String]?
    /// Working directory of the child; nil keeps the current one.
    var currentDirectory: String?
    /// Seconds until the child is killed.
    var timeout: Double
    /// After the child exited, how long to wait for end-of-file on its pipes before giving up
    /// (a grandchild such as a server started without a log file may hold them open).
    var drainGrace: Double = 1.0

    /// The command as a shell-like string, for messages.
    var commandLine: String {
        ([executable] + arguments).map(Self.quote).joined(separator: " ")
    }

    /// Runs the command; throws `HarnessError.commandTimedOut` after killing it on timeout.
    func run() throws -> ProcessResult {
        let child = try ChildLauncher.launch(LaunchRequest(
            executable: executable, arguments: arguments, environment: environment,
            currentDirectory: currentDirectory, stdout: .pipe, stderr: .pipe))
        let stdoutFD = child.stdoutPipe ?? -1
        let stderrFD = child.stderrPipe ?? -1
        defer { _ = close(stdoutFD); _ = close(stderrFD) }
        let pid = child.pid
        let monitor = ChildMonitor(pid: pid)
        let collector = OutputCollector(stdoutFD: stdoutFD, stderrFD: stderrFD)
        collector.start()

        var status = monitor.wait(timeout: timeout)
        let timedOut = status == nil
        if timedOut {
            Self.signalGroup(pid, SIGKILL)
            if monitor.isRunning { _ = kill(pid, SIGKILL) }
            status = monitor.wait(timeout: 10)
        }
        let (out, err) = collector.finish(grace: drainGrace)

        let stdout = String(decoding: out, as: UTF8.self)
        let stderr = String(decoding: err, as: UTF8.self)
        if timedOut {
            let partial = ProcessResult(status: -1, stdout: stdout, stderr: stderr, commandLine: commandLine)
            throw HarnessError.commandTimedOut(command: commandLine, seconds: timeout, output: partial.combinedOutput)
        }
        return ProcessResult(status: status ?? -1, stdout: stdout, stderr: stderr, commandLine: commandLine)
    }

    /// Sends `signal` to every process of process group `group` (a child `ChildLauncher` made a
    /// group leader, and what it forked). Never signals the test process's own group.
    static func signalGroup(_ group: pid_t, _ signal: Int32) {
        guard group > 1, group != getpgrp() else { return }
        _ = kill(-group, signal)
    }

    /// Quotes an argument for display when it contains characters a shell would split on.
    static func quote(_ argument: String) -> String {
        if !argument.isEmpty && argument.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:,@%+".contains($0) }) {
            return argument
        }
        return "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// Reads a child's stdout and stderr pipes on one background thread with `poll(2)` until both
/// reach end-of-file or `finish` gives up on them.
final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private let fds: [Int32]
    private var buffers: [Data] = [Data(), Data()]
    private var stopRequested = false
    private let done = DispatchSemaphore(value: 0)

    init(stdoutFD: Int32, stderrFD: Int32) {
        fds = [stdoutFD, stderrFD]
    }

    /// Starts the reader thread.
    func start() {
        let thread = Thread { [self] in self.readLoop() }
        thread.name = "KeelTesting.OutputCollector"
        thread.start()
    }

    /// Waits up to `grace` seconds for end-of-file on both pipes, then stops reading and
    /// returns what was read (stdout, stderr).
    func finish(grace: Double) -> (Data, Data) {
        if done.wait(timeout: .now() + .milliseconds(Int(max(0, grace) * 1000))) == .timedOut {
            lock.lock()
            stopRequested = true
            lock.unlock()
            done.wait()
        }
        lock.lock()
        defer { lock.unlock() }
        return (buffers[0], buffers[1])
    }

    private var shouldStop: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopRequested
    }

    private func readLoop() {
        var pollFDs = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var open = [true, true]
        var chunk = [UInt8](repeating: 0, count: 65536)
        while open.contains(true) && !shouldStop {
            let ready = poll(&pollFDs, nfds_t(pollFDs.count), 100)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            if ready == 0 { continue }
            for index in pollFDs.indices where open[index] && pollFDs[index].revents != 0 {
                let count = chunk.withUnsafeMutableBytes { read(fds[index], $0.baseAddress, $0.count) }
                if count > 0 {
                    lock.lock()
                    buffers[index].append(contentsOf: chunk[0..<count])
                    lock.unlock()
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    open[index] = false
                    pollFDs[index].fd = -1
                }
            }
        }
        done.signal()
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs one child process to completion with Foundation's `Process`, capturing stdout and
/// stderr concurrently (so a chatty child never blocks on a full pipe) and killing it when
/// it outlives its deadline.
///
/// Foundation puts every child in its own process group, so a timeout kills the whole group
/// (e.g. `runuser` and the command it forked). Servers started by `pg_ctl` call `setsid()` and
/// are not in that group: they are never killed here.
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory {
            process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory, isDirectory: true)
        }
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outPipe
        process.standardError = errPipe
        let monitor = ChildMonitor(process)

        try Self.launch(process, commandLine: commandLine)
        let pid = process.processIdentifier
        monitor.started(pid: pid)
        let leadsGroup = getpgid(pid) == pid
        let collector = OutputCollector(
            stdoutFD: outPipe.fileHandleForReading.fileDescriptor,
            stderrFD: errPipe.fileHandleForReading.fileDescriptor)
        collector.start()

        var status = monitor.wait(timeout: timeout)
        let timedOut = status == nil
        if timedOut {
            if leadsGroup { Self.signalGroup(pid, SIGKILL) }
            if monitor.isRunning { _ = kill(pid, SIGKILL) }
            status = monitor.wait(timeout: 10)
        }
        let (out, err) = collector.finish(grace: drainGrace)
        withExtendedLifetime((outPipe, errPipe)) {}

        let stdout = String(decoding: out, as: UTF8.self)
        let stderr = String(decoding: err, as: UTF8.self)
        if timedOut {
            let partial = ProcessResult(status: -1, stdout: stdout, stderr: stderr, commandLine: commandLine)
            throw HarnessError.commandTimedOut(command: commandLine, seconds: timeout, output: partial.combinedOutput)
        }
        return ProcessResult(status: status ?? -1, stdout: stdout, stderr: stderr, commandLine: commandLine)
    }

    /// Starts `process` with an empty signal mask. A child inherits the signal mask of the
    /// thread that spawns it, and Foundation does not reset it: spawned from a Dispatch or
    /// Swift-concurrency worker thread (where Swift Testing runs tests), which blocks nearly
    /// every signal, the child — and a daemon it starts — would ignore SIGTERM.
    static func launch(_ process: Process, commandLine: String) throws {
        var empty = sigset_t()
        var previous = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        do {
            try process.run()
        } catch {
            throw HarnessError.launchFailed(command: commandLine, reason: String(describing: error))
        }
    }

    /// Sends `signal` to every process of process group `group` (a child that Foundation made
    /// a group leader, and what it forked). Never signals the test process's own group.
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

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tells when a child started with Foundation's `Process` has exited, and with which status,
/// without depending on Foundation noticing it.
///
/// On Linux, swift-corelibs-foundation learns of a child's exit when a socket the child
/// inherits reaches end-of-file. A daemon forked by the child (a postmaster started by
/// `pg_ctl start`) inherits that socket too, so Foundation would report `pg_ctl` as running
/// until the server stops. This monitor therefore peeks with `waitid(…, WNOWAIT)`, which
/// reads the exit status without reaping: reaping stays Foundation's job, and as an unreaped
/// zombie the pid cannot be reused meanwhile. Foundation's termination handler, when it runs
/// first, provides the status instead.
final class ChildMonitor: @unchecked Sendable {
    private let lock = NSLock()
    private var recordedStatus: Int32?
    private let finished = DispatchSemaphore(value: 0)
    private var pid: pid_t = 0

    /// Installs the termination handler on `process`; call before `process.run()`.
    init(_ process: Process) {
        process.terminationHandler = { [self] finishedProcess in
            let status = finishedProcess.terminationReason == .exit
                ? finishedProcess.terminationStatus : 128 + finishedProcess.terminationStatus
            lock.lock()
            if recordedStatus == nil { recordedStatus = status }
            lock.unlock()
            finished.signal()
        }
    }

    /// Records the pid once `process.run()` returned.
    func started(pid: pid_t) {
        lock.lock()
        self.pid = pid
        lock.unlock()
    }

    /// The exit status (the exit code, or 128 + the signal number) once the child exited; nil
    /// while it runs.
    var status: Int32? {
        lock.lock()
        let (known, pid) = (recordedStatus, self.pid)
        lock.unlock()
        if let known { return known }
        guard pid > 0, let peeked = Self.peekExit(pid) else { return nil }
        lock.lock()
        if recordedStatus == nil { recordedStatus = peeked }
        let status = recordedStatus
        lock.unlock()
        return status
    }

    /// Whether the child has not exited yet.
    var isRunning: Bool { status == nil }

    /// Waits up to `timeout` seconds for the child to exit; returns its status, or nil.
    func wait(timeout: Double) -> Int32? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .milliseconds(Int64(max(0, timeout) * 1000)))
        var pause = 1
        while true {
            if let status { return status }
            let now = clock.now
            if now >= deadline { return nil }
            let remaining = deadline - now
            let step = min(Duration.milliseconds(pause), remaining)
            let (seconds, attoseconds) = step.components
            let milliseconds = Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000) + 1
            if finished.wait(timeout: .now() + .milliseconds(milliseconds)) == .success {
                finished.signal()  // keep it signalled for later waits
            }
            pause = min(pause * 2, 25)
        }
    }

    /// The exit status of child `pid` if it has exited, without reaping it.
    static func peekExit(_ pid: pid_t) -> Int32? {
        var info = siginfo_t()
        #if canImport(Glibc)
        let result = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        guard result == 0, info._sifields._sigchld.si_pid == pid else { return nil }
        let code = info.si_code
        let value = info._sifields._sigchld.si_status
        #else
        let result = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        guard result == 0, info.si_pid == pid else { return nil }
        let code = info.si_code
        let value = info.si_status
        #endif
        return code == Int32(CLD_EXITED) ? value : 128 + value
    }
}

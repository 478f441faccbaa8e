import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tells when a child started by `ChildLauncher` has exited, and with which status, reaping it
/// with `waitpid` on its own pid only (never `waitpid(-1)`: children started by others in the
/// test process are left to them).
///
/// Waiting polls with a short, growing pause instead of blocking in `waitpid`, so that a wait
/// has a deadline. Once reaped, the status is remembered.
public final class ChildMonitor: @unchecked Sendable {
    private let lock = NSLock()
    private var recordedStatus: Int32?
    /// The monitored child's pid.
    public let pid: pid_t

    /// Monitors child `pid` (a child of this process not yet reaped).
    public init(pid: pid_t) {
        self.pid = pid
    }

    /// The exit status (the exit code, or 128 + the signal number) once the child exited; nil
    /// while it runs. -1 when something else in the test process reaped it first.
    public var status: Int32? {
        lock.lock()
        defer { lock.unlock() }
        if recordedStatus == nil, pid > 0 { recordedStatus = Self.reap(pid) }
        return recordedStatus
    }

    /// Whether the child has not exited yet.
    public var isRunning: Bool { status == nil }

    /// Waits up to `timeout` seconds for the child to exit; returns its status, or nil.
    @discardableResult
    public func wait(timeout: Double) -> Int32? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .milliseconds(Int64(max(0, timeout) * 1000)))
        var pause = 1
        while true {
            if let status { return status }
            let now = clock.now
            if now >= deadline { return nil }
            let step = min(Duration.milliseconds(pause), deadline - now)
            let (seconds, attoseconds) = step.components
            usleep(useconds_t(seconds * 1_000_000 + attoseconds / 1_000_000_000_000 + 1))
            pause = min(pause * 2, 25)
        }
    }

    /// Reaps child `pid` if it has exited; returns its status, nil while it runs.
    static func reap(_ pid: pid_t) -> Int32? {
        var raw: Int32 = 0
        while true {
            let result = waitpid(pid, &raw, WNOHANG)
            if result == pid { break }
            if result == 0 { return nil }
            if errno == EINTR { continue }
            return -1  // ECHILD: reaped elsewhere, the status is lost
        }
        let low = raw & 0x7f
        if low == 0 { return (raw >> 8) & 0xff }  // WIFEXITED → WEXITSTATUS
        return 128 + low  // WIFSIGNALED → WTERMSIG (stopped children are not traced here)
    }
}

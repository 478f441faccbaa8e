#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres

/// A sleep that something else can cut short: keeld's loop sleeps until its next deadline, and the
/// upstream watcher wakes it the moment the upstream connection closes. Cancellation (keeld stopping)
/// also wakes it. One sleeper at a time.
final class Waker: @unchecked Sendable {
    private let lock = Lock()
    private var pending: CheckedContinuation<Void, Never>?
    private var flagged = false
    private var generation = 0
    private var firedGeneration: Int?

    /// Wakes the sleeper now, or makes the next `sleep` return at once.
    func wake() { resume(generation: nil) }

    private func resume(generation expected: Int?) {
        let continuation: CheckedContinuation<Void, Never>? = lock.withLock {
            if let expected, expected != generation { return nil }
            guard let c = pending else {
                // Nobody waits yet: remember it, so the sleep about to wait returns at once.
                if let expected { firedGeneration = expected } else { flagged = true }
                return nil
            }
            pending = nil
            return c
        }
        continuation?.resume()
    }

    /// Sleeps up to `seconds`; returns early on `wake()` and then says true. Throws `CancellationError`
    /// when the task is cancelled.
    @discardableResult
    func sleep(_ seconds: Double) async throws -> Bool {
        try Task.checkCancellation()
        let mine: Int? = lock.withLock {
            if flagged { flagged = false; return nil }
            generation += 1
            return generation
        }
        guard let mine else { return true }
        let timedOut = TimedOut()
        let timer = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(Int((max(0, seconds) * 1000).rounded(.up))))
            timedOut.set()
            self?.resume(generation: mine)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = lock.withLock {
                    if flagged || generation != mine || firedGeneration == mine { flagged = false; return true }
                    pending = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            self.wake()
        }
        timer.cancel()
        try Task.checkCancellation()
        return !timedOut.value
    }
}

/// A flag set by the sleep's timer.
private final class TimedOut: @unchecked Sendable {
    private let lock = Lock()
    private var flag = false
    func set() { lock.withLock { flag = true } }
    var value: Bool { lock.withLock { flag } }
}

/// Holds a connection to the upstream on a thread of its own and wakes keeld's loop when the server
/// closes it (killed postmaster, shutdown, broken network), so that the loss is noticed when it happens
/// rather than at the next `monitor_interval_secs` tick.
final class UpstreamWatcher: @unchecked Sendable {
    private let lock = Lock()
    private var conninfo: String?
    private var stopped = false
    private let waker: Waker
    private let connect: @Sendable (String) -> Connection?

    /// `connect` opens the watched connection (keeld's, with its deadlines and keepalives, so that a
    /// silent partition also ends the watch).
    init(waker: Waker, connect: @escaping @Sendable (String) -> Connection?) {
        self.waker = waker
        self.connect = connect
    }

    /// Watches `conninfo` from now on (`nil` = watch nothing).
    func watch(_ conninfo: String?) { lock.withLock { self.conninfo = conninfo } }

    func stop() { lock.withLock { stopped = true } }

    func start() {
        startThread(name: "keeld-upstream-watcher", stackSize: 0) { [self] in
            while true {
                let (target, isStopped) = lock.withLock { (conninfo, stopped) }
                if isStopped { return }
                guard let target, let connection = connect(target) else {
                    sleepThread(seconds: 0.5)
                    continue
                }
                while true {
                    let (current, isStopped) = lock.withLock { (conninfo, stopped) }
                    if isStopped { return }
                    if current != target { break }
                    if connection.waitForClose(timeout: 1) {
                        waker.wake()
                        sleepThread(seconds: 0.2)
                        break
                    }
                }
            }
        }
    }
}


import CLuaShim
import Dispatch
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

/// The serial executor of `LuaEngine`: one dedicated thread that runs the engine's jobs in order, so the
/// `lua_State` is only ever touched from that thread.
///
/// A dedicated thread (not the cooperative pool) because a hook may block it: `keel.query` waits on
/// libpq, `keel.sleep` sleeps, `keel.shell` waits for its child; none of that may starve Swift's
/// cooperative threads (2 on a 2-core machine), and the budget bounds how long it lasts.
final class LuaThreadExecutor: SerialExecutor, @unchecked Sendable {
    private let condition = Condition()
    private var jobs: [Work] = []
    private var stopped = false
    private var thread: pthread_t?

    /// What the thread runs: a job of the actor, or a plain closure (`submit`).
    private enum Work {
        case job(UnownedJob)
        case closure(() -> Void)
    }

    /// Starts the thread, named `name` (seen in `top -H`, debuggers); `started` gets its kernel thread id.
    init(name: String, started: @escaping @Sendable (Int32) -> Void = { _ in }) {
        startThread(name: name, stackSize: 8 << 20) { [self] in
            condition.withLock { self.thread = pthread_self() }
            started(keel_lua_thread_id())
            self.loop()
        }
    }

    /// Queues `job` to run on the thread.
    func enqueue(_ job: consuming ExecutorJob) {
        add(.job(UnownedJob(job)))
    }

    /// Queues `work` to run on the thread, in order with the actor's jobs (the watchdog's way in, without a
    /// task: `LuaEngine.perform`).
    func submit(_ work: @escaping () -> Void) {
        add(.closure(work))
    }

    private func add(_ work: Work) {
        condition.lock()
        jobs.append(work)
        condition.signal()
        condition.unlock()
    }

    /// Traps unless called on the thread (lets `assumeIsolated` work inside `submit`ted closures).
    func checkIsolated() {
        let current = condition.withLock { thread }
        precondition(current.map { pthread_equal($0, pthread_self()) != 0 } ?? false, "not on the Lua engine's thread")
    }

    /// This executor as the runtime wants it.
    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets the thread end once the queued jobs have run.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    /// How long the thread polls for the next job before it sleeps: a caller that awaits one hook call after
    /// another (the notification queue's worker, a burst of events) then finds the thread awake, which saves a
    /// futex wake-up per call (≈ 10–20 µs on a small VM). Costs CPU only right after a job.
    static let spinNanoseconds: UInt64 = 50_000

    private func loop() {
        while true {
            let spinUntil = DispatchTime.now().uptimeNanoseconds + Self.spinNanoseconds
            while DispatchTime.now().uptimeNanoseconds < spinUntil {
                condition.lock()
                let ready = !jobs.isEmpty || stopped
                condition.unlock()
                if ready { break }
            }
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty && stopped {
                condition.unlock()
                return
            }
            let work = jobs.removeFirst()
            condition.unlock()
            switch work {
            case .job(let job): job.runSynchronously(on: asUnownedSerialExecutor())
            case .closure(let closure): closure()
            }
        }
    }
}

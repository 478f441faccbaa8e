import CLuaShim
import Foundation

/// The serial executor of `LuaEngine`: one dedicated thread that runs the engine's jobs in order, so the
/// `lua_State` is only ever touched from that thread.
///
/// A dedicated thread (not the cooperative pool) because a hook may block it: `keel.query` waits on
/// libpq, `keel.sleep` sleeps, `keel.shell` waits for its child; none of that may starve Swift's
/// cooperative threads (2 on a 2-core machine), and the budget bounds how long it lasts.
final class LuaThreadExecutor: SerialExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false

    /// Starts the thread, named `name` (seen in `top -H`, debuggers); `started` gets its kernel thread id.
    init(name: String, started: @escaping @Sendable (Int32) -> Void = { _ in }) {
        let thread = Thread { [self] in
            started(keel_lua_thread_id())
            self.loop()
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Queues `job` to run on the thread.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
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
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedSerialExecutor())
        }
    }
}

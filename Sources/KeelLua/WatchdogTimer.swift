import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore

/// The watchdog's clock: one thread that fires each registered callback at its deadline unless it was
/// cancelled first. Registering and cancelling take a lock and, for a new earliest deadline, one signal —
/// far cheaper than a dispatch timer per call, and a cancelled deadline leaves nothing behind.
final class WatchdogTimer: @unchecked Sendable {
    /// The process's timer (its thread starts on first use).
    static let shared = WatchdogTimer()

    private let condition = Condition()
    private var pending: [Int: (deadline: UInt64, fire: @Sendable () -> Void)] = [:]
    private var next = 0
    /// When the thread wakes up next on its own (`UInt64.max`: only when signalled).
    private var wakeAt = UInt64.max

    private init() {
        startThread(name: "keel-lua-watch", stackSize: 256 << 10) { [self] in self.loop() }
    }

    /// Runs `fire` (on the timer's thread) `seconds` from now unless `cancel` gets the returned token first.
    func schedule(after seconds: Double, _ fire: @escaping @Sendable () -> Void) -> Int {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, seconds) * 1e9)
        condition.lock()
        defer { condition.unlock() }
        next += 1
        pending[next] = (deadline, fire)
        if deadline < wakeAt { condition.signal() }   // otherwise the thread wakes up in time anyway
        return next
    }

    /// Drops the callback of `token` (a no-op once it fired).
    func cancel(_ token: Int) {
        condition.lock()
        pending.removeValue(forKey: token)
        condition.unlock()
    }

    private func loop() {
        condition.lock()
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            let due = pending.filter { $0.value.deadline <= now }
            if !due.isEmpty {
                for token in due.keys { pending.removeValue(forKey: token) }
                condition.unlock()
                for entry in due.values { entry.fire() }
                condition.lock()
                continue
            }
            if let earliest = pending.values.map(\.deadline).min() {
                // At most a second at a time: `wait(until:)` takes the wall clock, which may be set back.
                wakeAt = min(earliest, now + 1_000_000_000)
                _ = condition.wait(seconds: Double(wakeAt - now) / 1e9)
            } else {
                wakeAt = .max
                condition.wait()
            }
        }
    }
}

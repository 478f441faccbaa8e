#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

/// A mutual-exclusion lock over a POSIX mutex (what Foundation's `NSLock` offered; Keel does not link
/// Foundation's full module). Not recursive.
public final class Lock: @unchecked Sendable {
    fileprivate let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    /// A new, unlocked lock.
    public init() {
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Blocks until the lock is held by the calling thread.
    public func lock() {
        pthread_mutex_lock(mutex)
    }

    /// Releases the lock held by the calling thread.
    public func unlock() {
        pthread_mutex_unlock(mutex)
    }

    /// Runs `body` with the lock held.
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A condition variable with its own mutex (what Foundation's `NSCondition` offered): `lock()`, then
/// `wait()` in a loop on the predicate, `signal()` with the lock held.
public final class Condition: @unchecked Sendable {
    private let mutex = Lock()
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// A new condition, its mutex unlocked.
    public init() {
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        cond.deallocate()
    }

    /// Blocks until the condition's mutex is held by the calling thread.
    public func lock() { mutex.lock() }

    /// Releases the condition's mutex.
    public func unlock() { mutex.unlock() }

    /// Runs `body` with the condition's mutex held.
    public func withLock<T>(_ body: () throws -> T) rethrows -> T { try mutex.withLock(body) }

    /// Releases the mutex until signalled (or woken spuriously), then holds it again.
    public func wait() {
        pthread_cond_wait(cond, mutex.mutex)
    }

    /// As `wait()`, but returns false once `seconds` have passed without a signal.
    @discardableResult
    public func wait(seconds: Double) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let total = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 + max(0, seconds)
        var deadline = timespec()
        deadline.tv_sec = Int(total)
        deadline.tv_nsec = Int((total - Double(Int(total))) * 1e9)
        return pthread_cond_timedwait(cond, mutex.mutex, &deadline) == 0
    }

    /// Wakes one thread waiting on the condition.
    public func signal() {
        pthread_cond_signal(cond)
    }

    /// Wakes every thread waiting on the condition.
    public func broadcast() {
        pthread_cond_broadcast(cond)
    }
}

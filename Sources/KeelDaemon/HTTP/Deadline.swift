import Dispatch

/// Runs blocking work (libpq, a child process) on its own thread and gives up waiting after `seconds`:
/// the caller gets `fallback` then, and the work finishes on its own (its own timeouts bound it).
enum Deadline {
    static func run<T: Sendable>(seconds: Double, fallback: T, _ work: @escaping @Sendable () -> T) async -> T {
        let once = Once<T>()
        return await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            once.install(continuation)
            DispatchQueue.global().async { once.resume(work()) }
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(seconds * 1000))) { once.resume(fallback) }
        }
    }
}

/// A continuation resumed by whichever comes first.
private final class Once<T: Sendable>: @unchecked Sendable {
    private let lock = DispatchQueue(label: "keeld.deadline")
    private var continuation: CheckedContinuation<T, Never>?

    func install(_ c: CheckedContinuation<T, Never>) { lock.sync { continuation = c } }

    func resume(_ value: T) {
        let c: CheckedContinuation<T, Never>? = lock.sync {
            defer { continuation = nil }
            return continuation
        }
        c?.resume(returning: value)
    }
}

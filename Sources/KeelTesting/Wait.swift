import Foundation

/// Thrown by `waitFor` when its condition did not become true in time.
public struct TimeoutError: Error, CustomStringConvertible, Sendable {
    /// What was being waited for, as given to `waitFor`.
    public var what: String
    /// The timeout in seconds.
    public var timeout: Double
    /// The description of the last error the condition threw, if any.
    public var lastError: String?

    /// A readable message naming the awaited condition.
    public var description: String {
        var message = "timed out after \(timeout) s waiting for \(what)"
        if let lastError { message += " (last error: \(lastError))" }
        return message
    }
}

/// Waits for a condition, polling every `interval` seconds, until `timeout` seconds have passed;
/// throws a `TimeoutError` naming `what`. This is the only way tests wait (never a bare sleep).
///
/// The condition is evaluated at least once, also after the deadline passed during a poll.
/// A condition that throws counts as "not yet" (a server that is still starting refuses
/// connections); the last error is reported in the `TimeoutError`.
public func waitFor(
    _ what: String, timeout: Double = 30, interval: Double = 0.2, _ condition: () throws -> Bool
) throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .milliseconds(Int64(max(0, timeout) * 1000)))
    let pause = max(0.001, interval)
    var lastError: String?
    while true {
        do {
            if try condition() { return }
            lastError = nil
        } catch {
            lastError = String(describing: error)
        }
        if clock.now >= deadline {
            throw TimeoutError(what: what, timeout: timeout, lastError: lastError)
        }
        Thread.sleep(forTimeInterval: pause)
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelOps
import Logging

/// Runs `event_notification_command` off the monitoring loop: events are queued (at most `capacity`;
/// when full, new ones are dropped, counted and logged) and one worker runs the commands in order, so a
/// slow or hanging notification command never delays failure detection.
public final class NotificationQueue: @unchecked Sendable {
    private struct Item: Sendable {
        /// The event to notify; when it must first be recorded, the worker runs this to write its row.
        var record: @Sendable () -> EventRecord
        var primary: NodeRecord?
    }

    private let continuation: AsyncStream<Item>.Continuation
    private let lock = Lock()
    private var droppedCount = 0
    private var queuedCount = 0
    private var finished = false
    private let logger: Logger

    /// Starts the worker. `writer` returns the `EventWriter` of the current configuration (it changes on reload).
    public init(capacity: Int = 256, logger: Logger, writer: @escaping @Sendable () -> EventWriter) {
        let (stream, continuation) = AsyncStream<Item>.makeStream(bufferingPolicy: .bufferingOldest(capacity))
        self.continuation = continuation
        self.logger = logger
        let box = WorkerState()
        Task {
            for await item in stream {
                await writer().notify(item.record(), primary: item.primary)
                box.ran()
            }
            box.finish()
        }
        state = box
    }

    /// What the worker has done, readable while it runs.
    private final class WorkerState: @unchecked Sendable {
        private let lock = Lock()
        private var done = 0
        private var over = false
        func ran() { lock.withLock { done += 1 } }
        func finish() { lock.withLock { over = true } }
        var snapshot: (done: Int, finished: Bool) { lock.withLock { (done, over) } }
    }

    private let state: WorkerState

    /// Queues the notification of `record`; never blocks.
    public func enqueue(_ record: EventRecord, primary: NodeRecord?) {
        enqueue(named: record.event, primary: primary) { record }
    }

    /// Queues an event whose row is written by the worker (`recording` writes it and returns the record),
    /// then notified: neither the write nor the notification runs on the monitoring loop. Never blocks.
    public func enqueue(named event: String, primary: NodeRecord?, recording: @escaping @Sendable () -> EventRecord) {
        let result = continuation.yield(Item(record: recording, primary: primary))
        if case .enqueued = result { lock.withLock { queuedCount += 1 } }
        if case .dropped = result {
            let total = lock.withLock { droppedCount += 1; return droppedCount }
            logger.warning("notification queue full: event \"\(event)\" not notified (\(total) dropped so far)")
        }
    }

    /// Notifications dropped because the queue was full.
    public var dropped: Int { lock.withLock { droppedCount } }

    /// Notifications queued since keeld started.
    public var queued: Int { lock.withLock { queuedCount } }

    /// Stops accepting events and waits up to `timeout` seconds for the queued ones to run; those not run
    /// by then are abandoned (and counted in the log), so a slow notification command never holds up
    /// keeld's exit. Returns how many were abandoned.
    @discardableResult
    public func drain(timeout: Double) async -> Int {
        continuation.finish()
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int64(timeout * 1000))
        // The worker's completion cannot be cancelled (a hook may be running): wait for its state instead.
        while !state.snapshot.finished, clock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        let queued = lock.withLock { queuedCount }
        let left = state.snapshot.finished ? 0 : max(0, queued - state.snapshot.done)
        if left > 0 { logger.warning("\(left) queued notification(s) not run: keeld is stopping (waited \(timeout) s)") }
        return left
    }
}

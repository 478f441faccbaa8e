import Foundation
import KeelCore
import KeelOps
import Logging

/// Runs `event_notification_command` off the monitoring loop: events are queued (at most `capacity`;
/// when full, new ones are dropped, counted and logged) and one worker runs the commands in order, so a
/// slow or hanging notification command never delays failure detection.
public final class NotificationQueue: @unchecked Sendable {
    private struct Item: Sendable {
        var record: EventRecord
        var primary: NodeRecord?
    }

    private let continuation: AsyncStream<Item>.Continuation
    private let worker: Task<Void, Never>
    private let lock = NSLock()
    private var droppedCount = 0
    private let logger: Logger

    /// Starts the worker. `writer` returns the `EventWriter` of the current configuration (it changes on reload).
    public init(capacity: Int = 256, logger: Logger, writer: @escaping @Sendable () -> EventWriter) {
        let (stream, continuation) = AsyncStream<Item>.makeStream(bufferingPolicy: .bufferingOldest(capacity))
        self.continuation = continuation
        self.logger = logger
        worker = Task {
            for await item in stream {
                await writer().notify(item.record, primary: item.primary)
            }
        }
    }

    /// Queues the notification of `record`; never blocks.
    public func enqueue(_ record: EventRecord, primary: NodeRecord?) {
        if case .dropped = continuation.yield(Item(record: record, primary: primary)) {
            let total = lock.withLock { droppedCount += 1; return droppedCount }
            logger.warning("notification queue full: event \"\(record.event)\" not notified (\(total) dropped so far)")
        }
    }

    /// Notifications dropped because the queue was full.
    public var dropped: Int { lock.withLock { droppedCount } }

    /// Stops accepting events and waits up to `timeout` seconds for the queued ones to run.
    public func drain(timeout: Double) async {
        continuation.finish()
        let worker = self.worker
        _ = await withTaskGroup(of: Void.self) { group in
            group.addTask { await worker.value }
            group.addTask { try? await Task.sleep(for: .seconds(timeout)) }
            await group.next()
            group.cancelAll()
        }
    }
}

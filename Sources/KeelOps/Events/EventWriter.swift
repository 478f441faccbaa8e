#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres
import Logging

/// Records an event the way repmgr's `create_event_notification` does: a `repmgr.events` row through
/// `connection` (the primary) when there is one, then `event_notification_command` when configured and the
/// event passes `event_notifications`. A failing notification command is logged, never fatal.
public struct EventWriter {
    public let context: OpsContext

    public init(context: OpsContext) { self.context = context }

    /// Writes the event (row and notification; the notification goes to `context.notifier` when set). `nodeID` defaults to this node; `primary` fills `%p %c %a`.
    /// Returns the recorded event.
    @discardableResult
    public func record(_ event: EventName, successful: Bool = true, details: String, on connection: Connection?,
                       nodeID: Int? = nil, primary: NodeRecord? = nil) async -> EventRecord {
        let record = write(event, successful: successful, details: details, on: connection, nodeID: nodeID)
        if let notifier = context.notifier {
            notifier(record, primary)
        } else {
            await notify(record, primary: primary)
        }
        return record
    }

    /// Writes the `repmgr.events` row only (no notification); without a connection, or when the write fails
    /// (logged), returns the event with this host's clock as timestamp.
    public func write(_ event: EventName, successful: Bool = true, details: String, on connection: Connection?,
                      nodeID: Int? = nil) -> EventRecord {
        write(named: event.rawValue, successful: successful, details: details, on: connection, nodeID: nodeID)
    }

    /// `write` for any event name (`keel.event` from a Lua hook).
    public func write(named event: String, successful: Bool = true, details: String, on connection: Connection?,
                      nodeID: Int? = nil) -> EventRecord {
        let id = nodeID ?? context.config.nodeID
        if let connection {
            do {
                return try MetadataStore(connection: connection).recordEvent(nodeID: id, named: event, successful: successful, details: details)
            } catch {
                context.logger.warning("unable to record event \"\(event)\": \(error)")
            }
        }
        return EventRecord(nodeID: id, event: event, successful: successful, timestamp: Self.timestamp(), details: details)
    }

    /// Runs `event_notification_command` for `record` when configured and not filtered out: the shell form
    /// with `%n %e %s %t %d %p %c %a`, or the Lua form with the event table (`HookContext.event`). A failure
    /// is logged, never returned.
    public func notify(_ record: EventRecord, primary: NodeRecord?) async {
        let hook = Hook(.eventNotification, in: context.config)
        guard hook != .none, EventRecord.passes(record.event, filter: context.config.eventNotifications) else { return }
        let outcome = await context.hooks.run(.eventNotification, hook: hook, context: context,
                                              luaContext: HookContext.event(record, primary: primary, config: context.config),
                                              shellTimeout: 60)
        guard !outcome.succeeded else { return }
        switch outcome.kind {
        case .shell where outcome.status != nil:
            let stderr = outcome.stderr.trimmingWhitespace()
            context.logger.warning("event notification command exited with status \(outcome.status!)",
                                   metadata: stderr.isEmpty ? nil : ["detail": "\(stderr)"])
        case .shell:
            context.logger.warning("unable to run event notification command: \(outcome.reason ?? "?")")
        default:
            context.logger.warning("event notification hook failed for event \"\(record.event)\": \(outcome.reason ?? "?")")
        }
    }

    /// Now as repmgr's `%t`: `YYYY-MM-DD HH:MM:SS±zzzz` (used when no primary records the event).
    static func timestamp() -> String {
        Timestamp.now(zone: true)
    }
}

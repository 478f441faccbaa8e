import Foundation
import KeelCore
import KeelPostgres
import Logging

/// Records an event the way repmgr's `create_event_notification` does: a `repmgr.events` row through
/// `connection` (the primary) when there is one, then `event_notification_command` when configured and the
/// event passes `event_notifications`. A failing notification command is logged, never fatal.
public struct EventWriter {
    public let context: OpsContext

    public init(context: OpsContext) { self.context = context }

    /// Writes the event (row and notification). `nodeID` defaults to this node; `primary` fills `%p %c %a`.
    /// Returns the recorded event.
    @discardableResult
    public func record(_ event: EventName, successful: Bool = true, details: String, on connection: Connection?,
                       nodeID: Int? = nil, primary: NodeRecord? = nil) async -> EventRecord {
        let record = write(event, successful: successful, details: details, on: connection, nodeID: nodeID)
        await notify(record, primary: primary)
        return record
    }

    /// Writes the `repmgr.events` row only (no notification); without a connection, or when the write fails
    /// (logged), returns the event with this host's clock as timestamp.
    public func write(_ event: EventName, successful: Bool = true, details: String, on connection: Connection?,
                      nodeID: Int? = nil) -> EventRecord {
        let id = nodeID ?? context.config.nodeID
        if let connection {
            do {
                return try MetadataStore(connection: connection).recordEvent(nodeID: id, event: event, successful: successful, details: details)
            } catch {
                context.logger.warning("unable to record event \"\(event.rawValue)\": \(error)")
            }
        }
        return EventRecord(nodeID: id, event: event.rawValue, successful: successful, timestamp: Self.timestamp(), details: details)
    }

    /// Runs `event_notification_command` for `record` when configured and not filtered out.
    public func notify(_ record: EventRecord, primary: NodeRecord?) async {
        let command = context.config.eventNotificationCommand
        guard !command.isEmpty, EventRecord.passes(record.event, filter: context.config.eventNotifications) else { return }
        let values = record.placeholderValues(primaryID: primary?.nodeID, primaryConninfo: primary?.conninfo, primaryName: primary?.nodeName)
        let expanded = Placeholders.expand(command, values)
        context.logger.debug("executing event notification command: \(expanded)")
        do {
            let result = try await ProcessRunner.shell(expanded, timeout: 60)
            if !result.succeeded {
                context.logger.warning("event notification command exited with status \(result.status)",
                                       metadata: result.stderr.isEmpty ? nil : ["detail": "\(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"])
            }
        } catch {
            context.logger.warning("unable to run event notification command: \(error)")
        }
    }

    /// Now as repmgr's `%t`: `YYYY-MM-DD HH:MM:SS±zzzz` (used when no primary records the event).
    static func timestamp() -> String {
        Timestamp.now(zone: true)
    }
}

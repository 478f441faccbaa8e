/// One event as written to `repmgr.events` and handed to notification hooks.
/// `timestamp` is the server's `event_timestamp` rendered as repmgr's `%t` (`YYYY-MM-DD HH:MM:SS±zz`).
public struct EventRecord: Sendable, Equatable, Codable {
    public var nodeID: Int
    public var event: String
    public var successful: Bool
    public var timestamp: String
    public var details: String
    public var nodeName: String?

    public init(nodeID: Int, event: String, successful: Bool, timestamp: String, details: String, nodeName: String? = nil) {
        self.nodeID = nodeID
        self.event = event
        self.successful = successful
        self.timestamp = timestamp
        self.details = details
        self.nodeName = nodeName
    }

    /// The placeholder values of `event_notification_command` for this event: `%n %e %s %t %d`, plus
    /// `%p %c %a` (the primary or followed node's id, conninfo — masked — and name) when given.
    public func placeholderValues(primaryID: Int? = nil, primaryConninfo: String? = nil, primaryName: String? = nil) -> [Character: String] {
        var values: [Character: String] = [
            "n": String(nodeID), "e": event, "s": successful ? "1" : "0", "t": timestamp, "d": details,
        ]
        if let primaryID { values["p"] = String(primaryID) }
        if let primaryConninfo { values["c"] = Conninfo.masked(primaryConninfo) }
        if let primaryName { values["a"] = primaryName }
        return values
    }

    /// Whether the `event_notifications` filter (empty = every event) lets this event through.
    public static func passes(_ event: String, filter: [String]) -> Bool {
        filter.isEmpty || filter.contains(event)
    }
}

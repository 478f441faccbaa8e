/// The primary side of monitoring (repmgrd 5.3 `check_connected_child_nodes`): which registered child
/// nodes (standbys whose upstream is this primary, and the witness when
/// `child_nodes_connected_include_witness`) are attached, the `child_node_*` events when that changes, and
/// when to run `child_nodes_disconnect_command` — once, after the shortfall has lasted
/// `child_nodes_disconnect_timeout` seconds, re-armed when it clears. Pure: time comes in with each call.
public struct ChildNodeTracker: Sendable {
    /// The `child_nodes_*` keys.
    public struct Settings: Sendable, Equatable {
        /// Run the command when fewer children than this are attached (-1 = off).
        public var connectedMinCount: Int
        /// Run the command when at least this many children are detached (-1 = off; ignored when
        /// `connectedMinCount` is set).
        public var disconnectMinCount: Int
        /// Seconds the shortfall must last before the command runs.
        public var disconnectTimeout: Double

        public init(connectedMinCount: Int = -1, disconnectMinCount: Int = -1, disconnectTimeout: Double = 30) {
            self.connectedMinCount = connectedMinCount
            self.disconnectMinCount = disconnectMinCount
            self.disconnectTimeout = disconnectTimeout
        }

        public init(config: KeelConfig) {
            self.init(connectedMinCount: config.int("child_nodes_connected_min_count"),
                      disconnectMinCount: config.int("child_nodes_disconnect_min_count"),
                      disconnectTimeout: Double(config.int("child_nodes_disconnect_timeout")))
        }
    }

    /// A registered child as the primary sees it.
    public struct Child: Sendable, Equatable {
        public var nodeID: Int
        public var name: String
        public var attached: Bool
        public init(nodeID: Int, name: String, attached: Bool) {
            self.nodeID = nodeID
            self.name = name
            self.attached = attached
        }
    }

    /// What the primary's daemon does after an observation.
    public enum Action: Sendable, Equatable {
        case event(EventName, nodeID: Int, details: String)
        /// Run `child_nodes_disconnect_command` (with `%p` = this primary) and record its event.
        case runDisconnectCommand(details: String)
    }

    public let settings: Settings
    private var attached: [Int: Bool] = [:]
    private var shortfallSince: Double?
    private var commandRun = false

    public init(settings: Settings) { self.settings = settings }

    /// Feeds one check at `now` (seconds). The first call only records the baseline.
    public mutating func observe(now: Double, children: [Child]) -> [Action] {
        var actions: [Action] = []
        let first = !baselineTaken
        for child in children {
            let before = attached[child.nodeID]
            attached[child.nodeID] = child.attached
            guard !first else { continue }
            switch (before, child.attached) {
            case (nil, true):
                actions.append(.event(.childNodeNewConnect, nodeID: child.nodeID, details: "new child node \"\(child.name)\" (ID: \(child.nodeID)) has connected"))
            case (true?, false):
                actions.append(.event(.childNodeDisconnect, nodeID: child.nodeID, details: "child node \"\(child.name)\" (ID: \(child.nodeID)) has disconnected"))
            case (false?, true):
                actions.append(.event(.childNodeReconnect, nodeID: child.nodeID, details: "child node \"\(child.name)\" (ID: \(child.nodeID)) has reconnected"))
            default:
                break
            }
        }
        baselineTaken = true
        let connected = children.filter(\.attached).count
        let detached = children.count - connected
        let shortfall: String?
        if settings.connectedMinCount >= 0 {
            shortfall = connected < settings.connectedMinCount
                ? "\(connected) child nodes attached, fewer than child_nodes_connected_min_count (\(settings.connectedMinCount))" : nil
        } else if settings.disconnectMinCount >= 0 {
            shortfall = detached >= settings.disconnectMinCount && detached > 0
                ? "\(detached) child nodes detached, at least child_nodes_disconnect_min_count (\(settings.disconnectMinCount))" : nil
        } else {
            shortfall = nil
        }
        guard let shortfall else {
            shortfallSince = nil
            commandRun = false
            return actions
        }
        let since = shortfallSince ?? now
        shortfallSince = since
        if !commandRun, now - since >= settings.disconnectTimeout {
            commandRun = true
            actions.append(.runDisconnectCommand(details: "\(shortfall) for \(Int(now - since)) seconds"))
        }
        return actions
    }

    private var baselineTaken = false
}

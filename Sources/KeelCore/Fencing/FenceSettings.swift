/// `fencing`: when a primary's keeld fences its own server.
public enum FencingMode: String, Sendable, Equatable, CaseIterable {
    /// Fence an isolated primary, except in a two-node cluster (one standby, no witness), where no side
    /// can hold a majority and repmgr's behaviour (never fence) is kept. A former primary is always fenced.
    case auto
    /// As `auto`, and also in a two-node cluster: the primary fences when it loses its only standby.
    case strict
    /// Never fence (repmgr's behaviour): a former primary is only reported.
    case off
}

/// `fence_action`: what fencing does to the local server after commits stopped being acknowledged.
public enum FenceAction: String, Sendable, Equatable, CaseIterable {
    /// Restart the server in recovery (`standby.signal`): a read-only standby with no upstream.
    case demote
    /// Stop the server.
    case stop
}

/// The fencing keys of a configuration, with the timing derived from the monitoring keys.
public struct FenceSettings: Sendable, Equatable {
    /// `fencing`.
    public var mode: FencingMode
    /// `fence_action`.
    public var action: FenceAction
    /// `auto_rejoin`: a fenced former primary rejoins the current primary by itself.
    public var autoRejoin: Bool
    /// The timing (`primary_isolation_timeout` and the window it must fit in).
    public var timing: FenceTiming

    /// Settings as given.
    public init(mode: FencingMode = .auto, action: FenceAction = .demote, autoRejoin: Bool = false, timing: FenceTiming) {
        self.mode = mode
        self.action = action
        self.autoRejoin = autoRejoin
        self.timing = timing
    }

    /// The fencing settings of a loaded configuration.
    public init(config: KeelConfig) {
        let configured = config.int("primary_isolation_timeout")
        self.init(mode: FencingMode(rawValue: config.string("fencing")) ?? .auto,
                  action: FenceAction(rawValue: config.string("fence_action")) ?? .demote,
                  autoRejoin: config.bool("auto_rejoin"),
                  timing: FenceTiming(monitorInterval: Double(config.monitorIntervalSecs),
                                      reconnectAttempts: config.reconnectAttempts,
                                      reconnectInterval: Double(config.reconnectInterval),
                                      configuredTimeout: configured >= 0 ? Double(configured) : nil))
    }
}

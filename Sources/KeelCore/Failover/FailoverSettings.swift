/// The settings that shape keeld's monitoring and failover, read once from the configuration
/// and handed to `FailoverMachine` and `Election`. Durations are seconds as `Double`, so that
/// tests can use fractions; repmgr.conf itself only holds whole seconds.
///
/// Defaults are repmgr 5.3's (`R:configdata.c`, `R:repmgr.h`); the keys are the repmgr.conf keys
/// named on each property.
public struct FailoverSettings: Sendable, Equatable {
    /// `node_id` of this node.
    public var nodeID: Int
    /// `failover`: `.automatic` lets keeld promote or follow; `.manual` only observes and
    /// notifies (default `.manual`).
    public var mode: FailoverMode
    /// `priority` of this node as configured (default 100; 0 = never promote). The election ranks
    /// the value in the node's metadata record (`PeerView.priority`), as repmgrd does.
    public var priority: Int
    /// `location` of this node as configured (default `default`).
    public var location: String
    /// `monitor_interval_secs`: seconds between upstream checks while healthy (default 2).
    public var monitorInterval: Double
    /// `reconnect_attempts`: failed checks, the one that notices the loss included, before the
    /// upstream is deemed lost, one every `reconnect_interval` (default 6; 0 or 1 = fail over at once).
    public var reconnectAttempts: Int
    /// `reconnect_interval`: seconds between reconnection attempts (default 10).
    public var reconnectInterval: Double
    /// `primary_visibility_consensus`: cancel the election when any sibling or the witness still
    /// sees the primary (default false).
    public var primaryVisibilityConsensus: Bool
    /// `standby_disconnect_on_failover`: stop this node's WAL receiver before the election and
    /// wait for the siblings to do the same (default false).
    public var standbyDisconnectOnFailover: Bool
    /// `sibling_nodes_disconnect_timeout`: seconds to wait for the siblings' WAL receivers to
    /// stop (default 30).
    public var siblingNodesDisconnectTimeout: Double
    /// True when `failover_validation_command` is set: a won election is validated before the
    /// promotion.
    public var hasValidationCommand: Bool
    /// `election_rerun_interval`: seconds before an election vetoed by the validation command
    /// runs again (default 15).
    public var electionRerunInterval: Double
    /// `primary_notification_timeout`: seconds a losing standby waits for the winner to become
    /// primary before it reruns the election (default 60).
    public var primaryNotificationTimeout: Double
    /// `degraded_monitoring_timeout`: seconds in degraded monitoring after which keeld exits;
    /// `nil` = never (repmgr's -1, and 0, which repmgrd also treats as "off").
    public var degradedMonitoringTimeout: Double?
    /// `always_promote`: promote even when the local copy of the metadata is stale (default
    /// false). Carried for the promote operation; the decision core does not read it.
    public var alwaysPromote: Bool
    /// `logical_slot_failover`: the election prefers a standby holding the synced logical slots and refuses
    /// one holding none (unless `alwaysPromote`); see `LogicalSlotFailover.rank`.
    public var logicalSlotFailover: Bool
    /// `synchronous_mode`: with `quorum:N` the election promotes only a standby proven to hold every
    /// acknowledged commit (`SyncFailoverRule`). Default `.off`.
    public var synchronousMode: SynchronousMode = .off

    /// Settings with repmgr 5.3's defaults for everything not given.
    public init(nodeID: Int, mode: FailoverMode = .manual, priority: Int = 100, location: String = "default",
                monitorInterval: Double = 2, reconnectAttempts: Int = 6, reconnectInterval: Double = 10,
                primaryVisibilityConsensus: Bool = false, standbyDisconnectOnFailover: Bool = false,
                siblingNodesDisconnectTimeout: Double = 30, hasValidationCommand: Bool = false,
                electionRerunInterval: Double = 15, primaryNotificationTimeout: Double = 60,
                degradedMonitoringTimeout: Double? = nil, alwaysPromote: Bool = false, logicalSlotFailover: Bool = false) {
        self.nodeID = nodeID
        self.mode = mode
        self.priority = priority
        self.location = location
        self.monitorInterval = monitorInterval
        self.reconnectAttempts = reconnectAttempts
        self.reconnectInterval = reconnectInterval
        self.primaryVisibilityConsensus = primaryVisibilityConsensus
        self.standbyDisconnectOnFailover = standbyDisconnectOnFailover
        self.siblingNodesDisconnectTimeout = siblingNodesDisconnectTimeout
        self.hasValidationCommand = hasValidationCommand
        self.electionRerunInterval = electionRerunInterval
        self.primaryNotificationTimeout = primaryNotificationTimeout
        self.degradedMonitoringTimeout = degradedMonitoringTimeout
        self.alwaysPromote = alwaysPromote
        self.logicalSlotFailover = logicalSlotFailover
    }

    /// The failover settings of a loaded configuration (explicit values or repmgr's defaults).
    /// `degraded_monitoring_timeout` ≤ 0 becomes `nil`, as repmgrd only acts on a positive value
    /// (`R:repmgrd-physical.c`: `degraded_monitoring_timeout > 0 && elapsed > timeout`).
    public init(config: KeelConfig) {
        let degraded = config.int("degraded_monitoring_timeout")
        self.init(
            nodeID: config.nodeID,
            mode: config.failover,
            priority: config.priority,
            location: config.location,
            monitorInterval: Double(config.monitorIntervalSecs),
            reconnectAttempts: config.reconnectAttempts,
            reconnectInterval: Double(config.reconnectInterval),
            primaryVisibilityConsensus: config.primaryVisibilityConsensus,
            standbyDisconnectOnFailover: config.bool("standby_disconnect_on_failover"),
            siblingNodesDisconnectTimeout: Double(config.int("sibling_nodes_disconnect_timeout")),
            hasValidationCommand: !config.failoverValidationCommand.allSatisfy(\.isWhitespace),
            electionRerunInterval: Double(config.electionRerunInterval),
            primaryNotificationTimeout: Double(config.int("primary_notification_timeout")),
            degradedMonitoringTimeout: degraded > 0 ? Double(degraded) : nil,
            alwaysPromote: config.bool("always_promote"),
            logicalSlotFailover: config.logicalSlotFailover
        )
        synchronousMode = config.synchronousMode
    }

    /// Seconds within which a sibling that saw the primary counts as still seeing it:
    /// 2 × `monitor_interval_secs`, repmgrd's fixed window. The daemon uses it to fill
    /// `PeerView.seesPrimary`.
    public var primaryVisibilityWindow: Double { 2 * monitorInterval }
}

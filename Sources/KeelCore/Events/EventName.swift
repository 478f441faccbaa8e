/// Event names written to `repmgr.events.event` and passed to notification hooks, exactly as repmgr 5.3
/// emits them (`doc/event-notifications.xml`), so `event_notifications` filters written for repmgr keep working.
public enum EventName: String, Sendable, CaseIterable, Codable {
    // keel (repmgr CLI)
    case clusterCreated = "cluster_created"
    case primaryRegister = "primary_register"
    case primaryUnregister = "primary_unregister"
    case standbyClone = "standby_clone"
    case standbyRegister = "standby_register"
    case standbyRegisterSync = "standby_register_sync"
    case standbyUnregister = "standby_unregister"
    case standbyPromote = "standby_promote"
    case standbyFollow = "standby_follow"
    case standbySwitchover = "standby_switchover"
    case witnessRegister = "witness_register"
    case witnessUnregister = "witness_unregister"
    case nodeRejoin = "node_rejoin"
    case clusterCleanup = "cluster_cleanup"
    // keeld (repmgrd)
    case daemonStart = "repmgrd_start"
    case daemonShutdown = "repmgrd_shutdown"
    case daemonReload = "repmgrd_reload"
    case failoverPromote = "repmgrd_failover_promote"
    case failoverFollow = "repmgrd_failover_follow"
    case failoverAborted = "repmgrd_failover_aborted"
    case standbyReconnect = "repmgrd_standby_reconnect"
    case promoteError = "repmgrd_promote_error"
    case localDisconnect = "repmgrd_local_disconnect"
    case localReconnect = "repmgrd_local_reconnect"
    case upstreamDisconnect = "repmgrd_upstream_disconnect"
    case upstreamReconnect = "repmgrd_upstream_reconnect"
    case standbyDisconnectManual = "standby_disconnect_manual"
    case standbyFailure = "standby_failure"
    case standbyRecovery = "standby_recovery"
    case childNodeDisconnect = "child_node_disconnect"
    case childNodeReconnect = "child_node_reconnect"
    case childNodeNewConnect = "child_node_new_connect"
    case childNodesDisconnectCommand = "child_nodes_disconnect_command"
    // keeld only (no repmgr counterpart)
    /// A node still running as primary while another registered node is the primary on a later timeline.
    case formerPrimaryDetected = "keeld_former_primary"
    /// A primary fenced itself (isolated, or a former primary): it acknowledges no more writes.
    case nodeFenced = "node_fenced"
    /// A fenced node verified it is still the only primary and takes writes again.
    case nodeUnfenced = "node_unfenced"
    /// `synchronous_mode`: the primary's keeld changed `synchronous_standby_names` (details: from, to, why).
    case syncStandbysChanged = "sync_standbys_changed"
    /// `synchronous_mode`: an election found no standby proven to hold every acknowledged commit; no promotion.
    case failoverBlocked = "failover_blocked"
}

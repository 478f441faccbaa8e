/// `failover` setting: whether keeld promotes/follows by itself (`R:configfile.c`,
/// `CONFIG_FAILOVER_MODE`; matched case-sensitively with `strcmp`).
public enum FailoverMode: String, Sendable, CaseIterable {
    /// keeld runs the election and `promote_command` / `follow_command` (both then required).
    case automatic
    /// keeld only monitors; an operator promotes (repmgr's default).
    case manual
}

/// `connection_check_type` setting: how keeld decides the upstream is reachable (`R:configfile.c`,
/// `CONFIG_CONNECTION_CHECK_TYPE`; matched case-insensitively).
public enum ConnectionCheckType: String, Sendable, CaseIterable {
    /// `PQping()` the upstream (repmgr's default).
    case ping
    /// Open a new connection each time.
    case connection
    /// Run `connection_check_query` (`SELECT 1`) on the existing connection.
    case query
}

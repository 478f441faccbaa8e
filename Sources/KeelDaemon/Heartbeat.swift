import KeelPostgres

/// Writes this daemon's row of `repmgr.keel_daemon` on the primary (pid, host, state sentence, when the
/// upstream was last seen), which `keel service status` reads. Failures are ignored: the primary may be
/// the node that just failed.
final class Heartbeat {
    private let runtime: DaemonRuntime
    private var first = true

    init(runtime: DaemonRuntime) { self.runtime = runtime }

    /// `upstreamLastSeen`: seconds since the upstream last answered (0 = now), `nil` when unknown.
    func beat(on primary: Connection, state: String, upstreamLastSeen: Double?) {
        do {
            try MetadataStore(connection: primary).recordHeartbeat(
                nodeID: runtime.config.nodeID, pid: runtime.pid, host: runtime.host, state: state,
                upstreamLastSeenSecondsAgo: upstreamLastSeen, starting: first)
            first = false
        } catch {
            runtime.logger.debug("unable to record heartbeat: \(error)")
        }
    }

    /// Marks the daemon stopped (at shutdown).
    func stopped(on primary: Connection?) {
        guard let primary else { return }
        try? MetadataStore(connection: primary).recordDaemonStopped(nodeID: runtime.config.nodeID)
    }
}

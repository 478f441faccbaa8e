#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import KeelCore
import KeelPostgres

/// Reconnecting to the local server after it went away, as repmgrd does (`repmgrd_local_disconnect`,
/// then `repmgrd_local_reconnect` when it answers again).
enum LocalConnection {
    /// Tries every `monitor_interval_secs` until the local server answers; `afterFailure` runs after each
    /// failed attempt (the primary's `SilentPrimaryFence`).
    static func reconnect(runtime: DaemonRuntime, afterFailure: () async -> Void = {}) async throws -> Connection {
        let config = runtime.config
        runtime.logger.warning("unable to connect to local \(config.nodeLabel)")
        runtime.event(.localDisconnect, success: false, details: "unable to connect to local node", on: nil)
        while true {
            try await runtime.sleep(Double(runtime.config.monitorIntervalSecs))
            if let conn = runtime.tryConnect(runtime.config.conninfo) {
                runtime.logger.notice("reconnected to local node \"\(config.nodeName)\"")
                runtime.event(.localReconnect, details: "reconnected to local node", on: nil)
                return conn
            }
            await afterFailure()
        }
    }
}

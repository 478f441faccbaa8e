#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres

/// `keel node status --is-shutdown-cleanly` (hidden, for `standby switchover`): prints one line saying
/// whether this node's server runs, shut down cleanly (with the location of its shutdown checkpoint) or
/// not, as repmgr 5.3's `_do_node_status_is_shutdown_cleanly`: `PQping` on `conninfo`, then
/// `pg_controldata` on `data_directory`. See `ShutdownState` for the format. Always exits 0.
public struct NodeShutdownState {
    /// The node's configuration.
    public let context: OpsContext

    /// Makes the operation.
    public init(context: OpsContext) { self.context = context }

    /// Decides, prints the `--state=` line and returns the state. Never throws for a missing or unreadable
    /// data directory (that is `UNKNOWN`).
    @discardableResult
    public func run() async -> ShutdownState {
        let config = context.config
        let answering: Bool
        switch Connection.ping(config.conninfo) {
        case .ok, .reject: answering = true
        default: answering = false
        }
        var control: ControlData?
        if FileManager.default.fileExists(atPath: config.dataDirectory + "/PG_VERSION") {
            control = try? await ControlDataReader.read(dataDirectory: config.dataDirectory, pgBindir: config.pgBindir)
        }
        let state = ShutdownState.evaluate(answering: answering, control: control)
        context.logger.debug("node status determined as: \(state.line)")
        context.output(state.line)
        return state
    }
}

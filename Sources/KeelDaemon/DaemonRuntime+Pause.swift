import Logging
import KeelCore
import KeelDCS
import KeelPostgres

extension DaemonRuntime {
    /// Whether `keel service pause` is in force for this node: the metadata flag read on `local`, and with a
    /// consensus store (`dcs`) its pause key (`pauseInForce`).
    func isPaused(local: Connection) -> Bool {
        let flag = (try? MetadataStore(connection: local).isPaused(nodeID: config.nodeID)) ?? false
        return Self.pauseInForce(flag: flag, session: consensus, logger: logger)
    }

    /// The pause in force given the metadata flag `flag`: without a session the flag; with one, its pause key
    /// when it holds one (`PauseRule`), the flag when it holds none or the store does not answer (logged).
    static func pauseInForce(flag: Bool, session: LeaderSession?, logger: Logger) -> Bool {
        guard let session else { return flag }
        let stored = session.storedPause(metadataFlag: flag)
        if case .unreachable(let reason) = stored {
            logger.debug("pause key not read from the consensus store (\(reason)): the metadata flag (\(flag)) is in force")
        }
        return PauseRule.isPaused(metadata: flag, stored: stored)
    }
}

import KeelCore
import KeelDCS
import KeelPostgres

/// `keel service pause|unpause [--dry-run]` (also `keel daemon pause|unpause`): sets the pause flag of
/// every registered node in `repmgr.keel_daemon` on the primary. A paused keeld keeps monitoring but never
/// promotes or follows; the flag is replicated, so it holds across daemon restarts. Source: repmgr 5.3
/// `do_service_pause` (which uses the extension's shared memory instead). With a consensus store (`dcs`)
/// the state is also written to each node's pause key in etcd (`PauseKeys`), which keeld reads first — and
/// only there when the primary is down, so that a pause or unpause still reaches every keeld then.
/// Exit 26 when it cannot be set.
public struct ServicePause {
    public let context: OpsContext
    public let pause: Bool

    public init(context: OpsContext, pause: Bool) {
        self.context = context
        self.pause = pause
    }

    public func run() async throws {
        let local = try context.connectLocal()
        let dcs = DCSSettings(config: context.config)
        let primary: Connection?
        do {
            primary = try context.connectPrimary(via: local).0
        } catch {
            guard dcs != nil else { throw error }
            context.logger.warning("the primary is unreachable (\(error)): the pause state is written to etcd only")
            primary = nil
        }
        let nodes = try context.query { try MetadataStore(connection: primary ?? local).nodes() }
        if context.dryRun {
            for node in nodes { context.logger.info("would \(pause ? "pause" : "unpause") node \(node.nodeID) (\(node.nodeName))") }
            return
        }
        if let primary { try setFlag(on: primary, nodes: nodes) }
        if let dcs { try writeKeys(dcs, nodes: nodes, flagSet: primary != nil) }
        let verb = pause ? "paused" : "unpaused"
        for node in nodes { context.logger.notice("node \(node.nodeID) (\(node.nodeName)) \(verb)") }
    }

    private func setFlag(on primary: Connection, nodes: [NodeRecord]) throws {
        do {
            try Migrator(connection: primary).migrate()
            try MetadataStore(connection: primary).setPaused(pause, nodeIDs: nodes.map(\.nodeID))
        } catch {
            throw KeelError(.daemonPause, "unable to set the pause flag on the primary", detail: "\(error)")
        }
    }

    /// The pause keys in etcd; a failure names etcd and the endpoints tried.
    private func writeKeys(_ dcs: DCSSettings, nodes: [NodeRecord], flagSet: Bool) throws {
        do {
            try PauseKeys.write(pause, nodeIDs: nodes.map(\.nodeID), store: EtcdStore(dcs), settings: dcs)
        } catch {
            let done = flagSet ? "the flag is set on the primary, but " : ""
            throw KeelError(.daemonPause, "\(done)unable to write the pause state to etcd (\(dcs.prefix)paused/)", detail: "\(error)",
                            hint: "keeld follows etcd's pause key when it can read it: run the command again once etcd answers")
        }
    }
}

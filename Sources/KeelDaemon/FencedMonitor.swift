#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import KeelCore
import KeelDCS
import KeelOps
import KeelPostgres

/// keeld on a fenced node whose server runs in recovery (demoted by its fence). Each round it ends the
/// fence when the node was rejoined (its WAL receiver streams), rejoins the current primary itself with
/// `auto_rejoin=on` (`keel node rejoin --force-rewind --config-files` with the node's own postgresql.conf,
/// pg_hba.conf and pg_ident.conf: pg_rewind when it diverged), or — for a fence
/// set because the node was isolated — promotes it back when `UnfenceRule` allows it on two rounds in a row.
/// Returns when the server leaves recovery or the fence ended.
struct FencedMonitor {
    let runtime: DaemonRuntime
    private let probe = FenceProbe()

    init(runtime: DaemonRuntime) { self.runtime = runtime }

    private var effector: FenceEffector { FenceEffector(runtime: runtime) }

    func run(local initial: Connection, fact: FenceFact) async throws {
        var local = initial
        var allowedRounds = 0
        var nextRejoin = runtime.now
        runtime.logger.notice("\(runtime.config.nodeLabel) is fenced (\(fact.reason.rawValue), since \(fact.fencedAt)): \(fact.details)")
        while true {
            let config = runtime.config
            let roundStart = runtime.now
            guard let info = try? ServerInfo.read(local) else { return }
            guard info.isInRecovery, effector.store.load(nodeID: config.nodeID) != nil else { return }
            if info.walReceiverStatus == "streaming" {
                effector.endFence(local, fact: fact)
                runtime.logger.notice("\(config.nodeLabel) streams from an upstream again (rejoined): fence ended")
                return
            }
            publishFenced(info)
            let nodes = (try? MetadataStore(connection: local).nodes()) ?? []
            let others = nodes.filter { $0.nodeID != config.nodeID }
            let settings = FenceSettings(config: config)
            let sightings = await probe.round(others, timeout: settings.timing.probeTimeout)
            let evidence = Supersession.evidence(timeline: fact.timeline, term: fact.term, sightings: sightings)
            if settings.autoRejoin, fact.reason == .formerPrimary || evidence != nil, runtime.now >= nextRejoin {
                if await rejoin(nodes: others, sightings: sightings, fact: fact) { return }
                nextRejoin = runtime.now + Double(config.int("node_rejoin_timeout"))
                guard let reconnected = runtime.tryConnect(config.conninfo) else { return }
                local = reconnected
            } else if fact.reason != .formerPrimary, let me = nodes.first(where: { $0.nodeID == config.nodeID }) {
                let term = (try? MetadataStore(connection: local).votingTerm()) ?? nil
                let (view, peers) = FenceProbe.views(me: me, nodes: nodes, sightings: sightings)
                let verdict = IsolationRule.evaluate(primary: view, peers: peers, mode: settings.mode)
                let blocker = UnfenceRule.blocker(fact: fact, timeline: info.timeline, term: term, sightings: sightings, isolation: verdict)
                allowedRounds = blocker == nil ? allowedRounds + 1 : 0
                if allowedRounds >= 2, holdsLeaderKey() {
                    await unfence(local: local, fact: fact, verdict: verdict, term: term)
                    return
                }
            }
            try await runtime.sleep(roundStart + Double(config.monitorIntervalSecs) - runtime.now)
        }
    }

    /// With a consensus store: a fenced node gives the leader key up (the standbys may win it at once rather
    /// than after its lease) and publishes that it is fenced.
    private func publishFenced(_ info: ServerInfo) {
        guard let session = runtime.consensus else { return }
        if (try? session.release()) == true {
            runtime.logger.notice("released the leader key \(session.settings.leaderKey): this node is fenced")
        }
        try? session.publish(MemberStatus(role: "standby", name: runtime.config.nodeName, lsn: info.lsn.map { "\($0)" },
                                          timeline: info.timeline, fenced: true))
    }

    /// With a consensus store, a fenced node is unfenced only once it holds the leader key again (the store
    /// is back and no other node won it); without one, always true.
    private func holdsLeaderKey() -> Bool {
        guard let session = runtime.consensus else { return true }
        let observation = session.attempt()
        guard case .held = observation else {
            runtime.logger.info("not unfencing yet: the leader key is not won (\(observation))")
            return false
        }
        runtime.logger.notice("won the leader key \(session.settings.leaderKey) again")
        return true
    }

    /// `auto_rejoin=on`: stops the server, then `keel node rejoin --force-rewind` against the current
    /// primary. True when it rejoined (the fence then ends).
    private func rejoin(nodes: [NodeRecord], sightings: [NodeSighting], fact: FenceFact) async -> Bool {
        let config = runtime.config
        let primaries = sightings.filter { $0.reachable && $0.type != .witness && $0.isInRecovery == false }
        guard let newest = primaries.max(by: { ($0.timeline ?? 0) < ($1.timeline ?? 0) }),
              let primary = nodes.first(where: { $0.nodeID == newest.nodeID }) else {
            runtime.logger.info("auto_rejoin: no current primary is reachable yet")
            return false
        }
        runtime.logger.notice("auto_rejoin: rejoining \(config.nodeLabel) to the current primary \(primary.nodeLabel)")
        let context = OpsContext(config: config, logger: runtime.logger, remote: RemoteNodeOptions(dbname: primary.conninfo),
                                 hooks: runtime.hooks)
        do {
            try await LocalService(context: context).run("stop", timeout: 120, failure: .systemFailure)
            // pg_rewind copies the primary's configuration files: this node keeps its own.
            let own = ["postgresql.conf", "pg_hba.conf", "pg_ident.conf"]
                .filter { FileManager.default.fileExists(atPath: config.dataDirectory + "/" + $0) }
            let result = try await NodeRejoin(context: context, options: .init(forceRewind: true, configFiles: own)).run()
            if let local = runtime.tryConnect(config.conninfo) { effector.endFence(local, fact: fact) } else { effector.store.clear() }
            runtime.logger.notice("auto_rejoin: \(config.nodeLabel) now follows \(primary.nodeLabel)\(result.rewound ? " (pg_rewind ran)" : ""); fence ended")
            return true
        } catch {
            let message = (error as? KeelError).map { [$0.message, $0.detail].compactMap { $0 }.joined(separator: ": ") } ?? "\(error)"
            runtime.logger.error("auto_rejoin failed: \(message); the node stays fenced")
            if DataDirectory(config.dataDirectory).runningPostmasterPID == nil {
                try? await LocalService(context: context).run("start", timeout: 120, failure: .systemFailure)
            }
            return false
        }
    }

    /// The isolation is over and the node verified it is still the only primary: promoted back.
    private func unfence(local: Connection, fact: FenceFact, verdict: IsolationRule.Verdict, term: Int?) async {
        let config = runtime.config
        do {
            _ = try local.query("SELECT pg_catalog.pg_promote(true, 60)")
        } catch {
            runtime.logger.error("unable to unfence: the promotion failed: \(error.message)")
            return
        }
        effector.endFence(local, fact: fact)
        let details = "\(config.nodeLabel) unfenced and primary again: no other primary, timeline \(fact.timeline) and voting term "
            + "\(term.map(String.init) ?? "?") unchanged since the fence; \(verdict.sentence)"
        runtime.logger.notice("\(details)")
        runtime.event(.nodeUnfenced, details: details, on: local)
    }
}

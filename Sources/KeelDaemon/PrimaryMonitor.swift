#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelOps
import KeelPostgres

/// keeld on the primary: each round (every `monitor_interval_secs`, sooner when a fence falls due) it
/// checks its own server, runs the fencing check (`FenceGuard`: a former primary or an isolated primary
/// fences itself), writes its heartbeat and watches its child nodes (`child_nodes_*` keys). Ends when the
/// server is no longer a primary, or after fencing it.
struct PrimaryMonitor {
    let runtime: DaemonRuntime
    let heartbeat: Heartbeat

    /// Runs until the local server is no longer a primary or was fenced (returns), or keeld stops (throws
    /// CancellationError).
    func run(local initial: Connection) async throws {
        var local = initial
        let log = runtime.logger
        let guardian = FenceGuard(runtime: runtime)
        let silence = SilentPrimaryFence(runtime: runtime)
        let lease = LeaderLease(runtime: runtime)
        silence.answered()  // the server has just answered the role check: its postmaster is the one watched
        guardian.reassertIfFenced(local: local)
        _ = try? Migrator(connection: local).migrate()
        var tracker = ChildNodeTracker(settings: .init(config: runtime.config))
        let sync = SyncStandbyManager(runtime: runtime)
        var nextChildCheck = runtime.now
        log.notice("monitoring cluster primary \"\(runtime.config.nodeName)\" (ID: \(runtime.config.nodeID))")
        if let warning = FenceSettings(config: runtime.config).timing.warning, FenceSettings(config: runtime.config).mode != .off {
            log.warning("\(warning)")
        }
        while true {
            let config = runtime.config
            let roundStart = runtime.now
            guard local.isOK, (try? local.query("SELECT 1")) != nil else {
                _ = await silence.observeSilence()
                local = try await LocalConnection.reconnect(runtime: runtime, afterFailure: { _ = await silence.observeSilence() })
                continue
            }
            silence.answered()
            guard let info = try? ServerInfo.read(local) else {
                try await runtime.sleep(Double(config.monitorIntervalSecs))
                continue
            }
            if info.isInRecovery {
                log.notice("local node \"\(config.nodeName)\" is now a standby")
                return
            }
            let store = MetadataStore(connection: local)
            let nodes = (try? store.nodes()) ?? []
            let paused = runtime.isPaused(local: local)
            (silence.nodes, silence.timeline, silence.term) = (nodes, info.timeline, (try? store.votingTerm()) ?? nil)
            if let lease, await fencedForLease(lease, local: local, info: info) { return }
            let outcome = await guardian.check(local: local, info: info, nodes: nodes, paused: paused)
            lease?.seesEveryStandby = guardian.seesEveryStandby(nodes)
            switch outcome {
            case .fenced:
                return
            case .standAside:
                break
            case .primary:
                sync.round(local: local, nodes: nodes)
                heartbeat.beat(on: local, state: paused ? "paused: primary" : "monitoring as primary", upstreamLastSeen: 0)
                LogicalSlots.keepSynchronizedStandbySlots(local, config: config, nodes: nodes, logger: log)
                let now = runtime.now
                if !paused, now >= nextChildCheck {
                    nextChildCheck = now + Double(config.int("child_nodes_check_interval"))
                    await ChildNodeCheck(runtime: runtime).run(local: local, nodes: nodes, tracker: &tracker, now: now)
                }
            }
            let next = min(roundStart + Double(config.monitorIntervalSecs), guardian.fenceDeadline ?? .infinity,
                           lease?.deadline ?? .infinity)
            try await runtime.sleep(next - runtime.now)
        }
    }

    /// With a consensus store: one attempt on the leader key; true when `LeaseRule` said fence and the fence held.
    private func fencedForLease(_ lease: LeaderLease, local: Connection, info: ServerInfo) async -> Bool {
        guard let reason = lease.round(info: info) else { return false }
        let term = (try? MetadataStore(connection: local).votingTerm()) ?? nil
        return await FenceEffector(runtime: runtime).fence(local: local, reason: .leaseLost, details: reason,
                                                           timeline: info.timeline, term: term, eventOn: nil, primary: nil)
    }
}

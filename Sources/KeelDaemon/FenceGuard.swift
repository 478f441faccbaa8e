#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import KeelCore
import KeelOps
import KeelPostgres

/// The primary's fencing check, once per round: probes every other node (`FenceProbe`), then fences when
/// another node shows a later timeline or higher voting term (at once), or when the isolation rule has
/// held for `primary_isolation_timeout`; a server that runs as primary while a fence is persisted is
/// unfenced only when `UnfenceRule` allows it, and fenced again otherwise. Decisions are KeelCore's
/// (`Supersession`, `IsolationRule`, `UnfenceRule`, `FenceTiming`); this type observes and acts.
final class FenceGuard {
    /// What the round found.
    enum Outcome: Equatable {
        /// This node may act as the primary.
        case primary
        /// It must not act as the primary: a former primary with `fencing=off` (repmgr only reports it), or a
        /// fence whose `fence_action` failed (commits stay unacknowledged; retried next round).
        case standAside
        /// The server was fenced: the primary monitor ends.
        case fenced
    }

    private let runtime: DaemonRuntime
    private let probe = FenceProbe()
    private var effector: FenceEffector { FenceEffector(runtime: runtime) }
    /// Start of the last round that showed this primary was not isolated.
    private var lastSafe: Double
    private var isolationLogged = false
    private var twoNodeWarned = false
    private var formerReported = false
    /// When a `fence_action` last failed: it is retried after `retryDelay`, the fast step every round.
    private var failedAt: Double?
    /// What the last probe round saw.
    private(set) var lastSightings: [NodeSighting] = []

    init(runtime: DaemonRuntime) {
        self.runtime = runtime
        lastSafe = runtime.now
    }

    /// When the next round must start at the latest, so that an isolated primary fences on time.
    var fenceDeadline: Double? {
        isolationLogged ? lastSafe + FenceSettings(config: runtime.config).timing.isolationTimeout : nil
    }

    /// A persisted fence found at start on a server running as primary: commits stop being acknowledged
    /// before anything else happens.
    func reassertIfFenced(local: Connection) {
        guard effector.store.load(nodeID: runtime.config.nodeID) != nil else { return }
        effector.reassert(local: local)
    }

    /// One round. `paused`: `service pause` holds isolation fencing (a former primary is still fenced).
    func check(local: Connection, info: ServerInfo, nodes: [NodeRecord], paused: Bool) async -> Outcome {
        let config = runtime.config
        let settings = FenceSettings(config: config)
        let roundStart = runtime.now
        guard let me = nodes.first(where: { $0.nodeID == config.nodeID }) else { return .primary }
        let others = nodes.filter { $0.nodeID != me.nodeID }
        let sightings = await probe.round(others, timeout: settings.timing.probeTimeout)
        lastSightings = sightings
        let term = (try? MetadataStore(connection: local).votingTerm()) ?? nil
        let (view, peers) = FenceProbe.views(me: me, nodes: nodes, sightings: sightings)
        let verdict = IsolationRule.evaluate(primary: view, peers: peers, mode: settings.mode)
        warnTwoNode(verdict, settings: settings)
        runtime.logger.debug("fencing check: \(verdict.sentence)")
        if let evidence = Supersession.evidence(timeline: info.timeline, term: term, sightings: sightings) {
            return await former(evidence, local: local, info: info, term: term, nodes: nodes, settings: settings)
        }
        formerReported = false
        if let fact = effector.store.load(nodeID: config.nodeID) {
            return await fencedPrimary(fact, local: local, info: info, term: term, sightings: sightings, verdict: verdict)
        }
        guard verdict.isolated, !paused else {
            if isolationLogged { runtime.logger.notice("no longer isolated: \(verdict.sentence)") }
            isolationLogged = false
            lastSafe = roundStart
            return .primary
        }
        let timing = settings.timing
        guard timing.mustFence(isolatedSince: lastSafe, now: runtime.now) else {
            if !isolationLogged {
                let left = max(0, lastSafe + timing.isolationTimeout - runtime.now)
                let message = "\(verdict.sentence); fencing in \(String(cFormat: "%.1f", left)) s unless they reappear "
                    + "(primary_isolation_timeout=\(String(cFormat: "%g", timing.isolationTimeout)))"
                runtime.logger.warning("\(message)")
            }
            isolationLogged = true
            return .primary
        }
        let done = await effector.fence(local: local, reason: .isolated, details: verdict.sentence, timeline: info.timeline,
                                        term: term, eventOn: nil, primary: nil)
        failedAt = done ? nil : runtime.now
        return done ? .fenced : .standAside
    }

    /// Another node shows this one is a former primary: recorded (`keeld_former_primary`) each time it is
    /// found running as primary, and fenced unless `fencing=off`.
    private func former(_ evidence: Supersession.Evidence, local: Connection, info: ServerInfo, term: Int?, nodes: [NodeRecord],
                        settings: FenceSettings) async -> Outcome {
        let config = runtime.config
        let record = nodes.first { $0.nodeID == evidence.node.nodeID }
        let current: (NodeRecord, Connection)? = evidence.node.isInRecovery == false
            ? record.flatMap { r in FenceGuard.connect(r).map { (r, $0) } } : nil
        if !formerReported {
            formerReported = true
            runtime.logger.error("\(evidence.sentence); keeld will not act as primary",
                                 metadata: ["hint": "rejoin this node as a standby with \"keel node rejoin\" (or set auto_rejoin=on)"])
            runtime.event(.formerPrimaryDetected, success: false,
                          details: "\(config.nodeLabel) is running as primary on timeline \(info.timeline) but \(evidence.sentence)",
                          on: current?.1, primary: current?.0 ?? record)
        }
        guard settings.mode != .off else { return .standAside }
        if let failedAt, runtime.now - failedAt < retryDelay { return .standAside }
        let done = await effector.fence(local: local, reason: .formerPrimary, details: evidence.sentence, timeline: info.timeline,
                                        term: term, eventOn: current?.1, primary: current?.0 ?? record)
        failedAt = done ? nil : runtime.now
        return done ? .fenced : .standAside
    }

    /// A fence is persisted but the server runs as primary (started again by hand, or keeld stopped mid-way):
    /// unfence when verified, else fence again.
    private func fencedPrimary(_ fact: FenceFact, local: Connection, info: ServerInfo, term: Int?, sightings: [NodeSighting],
                               verdict: IsolationRule.Verdict) async -> Outcome {
        effector.reassert(local: local)
        if let blocker = UnfenceRule.blocker(fact: fact, timeline: info.timeline, term: term, sightings: sightings, isolation: verdict) {
            if let failedAt, runtime.now - failedAt < retryDelay { return .standAside }
            let done = await effector.fence(local: local, reason: fact.reason, details: "still fenced: \(blocker)",
                                            timeline: info.timeline, term: term, eventOn: nil, primary: nil)
            failedAt = done ? nil : runtime.now
            return done ? .fenced : .standAside
        }
        effector.endFence(local, fact: fact)
        lastSafe = runtime.now
        let details = "\(runtime.config.nodeLabel) unfenced: it is still the only primary (timeline \(info.timeline)"
            + "\(term.map { ", voting term \($0)" } ?? ""); \(verdict.sentence))"
        runtime.logger.notice("\(details)")
        runtime.event(.nodeUnfenced, details: details, on: local)
        return .primary
    }

    /// True when the last probe round reached every active standby among `nodes` (`dcs_failsafe`).
    func seesEveryStandby(_ nodes: [NodeRecord]) -> Bool {
        let standbys = nodes.filter { $0.type == .standby && $0.active && $0.nodeID != runtime.config.nodeID }
        return standbys.allSatisfy { node in lastSightings.contains { $0.nodeID == node.nodeID && $0.reachable } }
    }

    /// Seconds before a failed `fence_action` is tried again (the fast step holds meanwhile).
    private var retryDelay: Double { max(10, 5 * Double(runtime.config.monitorIntervalSecs)) }

    /// A connection to `node` whose connect and queries are bounded by the probe's deadline.
    static func connect(_ node: NodeRecord) -> Connection? {
        let timeout = FenceTiming.defaultProbeTimeout
        return try? Connection(conninfo: node.conninfo, deadlines: ConnectionDeadlines(monitorInterval: timeout, reconnectInterval: timeout))
    }

    private func warnTwoNode(_ verdict: IsolationRule.Verdict, settings: FenceSettings) {
        guard verdict.twoNode, settings.mode == .auto, !twoNodeWarned else { return }
        twoNodeWarned = true
        let message = "two-node cluster (one standby, no witness): with fencing=auto this primary never fences itself when "
            + "isolated, as repmgr; a partition can leave two primaries. Add a witness, or set fencing=strict (the primary "
            + "then stops taking writes whenever it loses its standby)"
        runtime.logger.warning("\(message)")
    }
}

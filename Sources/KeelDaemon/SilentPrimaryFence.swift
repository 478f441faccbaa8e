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

/// keeld on a primary whose server stopped answering (`SilenceRule`). After each failed attempt to reach
/// the local server it looks at the postmaster named in `postmaster.pid`: alive yet silent to a bounded
/// ping (`noResponse`, not a refusal such as "too many clients") for long enough, and replaceable by the
/// other nodes, the server is ended — SIGKILL of the postmaster's process group (or of the postmaster
/// and its children), which works on stopped processes too, so nothing it held is acknowledged when it
/// would have resumed — and `fence_action` applied to what is left: demote starts it again in recovery
/// (`standby.signal`), stop leaves it down. The fence is persisted first; `fence_command` and
/// `node_fenced` follow, as for any fence. Only the postmaster that last answered keeld can be silent
/// (`SilenceRule.isSilentServer`): one started since — a crashed server being started again by
/// `node rejoin`, whose lock file exists before it listens — is left to start up.
final class SilentPrimaryFence {
    private let runtime: DaemonRuntime
    private var silentSince: Double?
    /// The postmaster that last answered the primary monitor.
    private var answeredBy: PostmasterIdentity?
    /// The last postmaster reported as started since then (logged once each).
    private var reportedNewcomer: PostmasterIdentity?
    /// What the primary monitor last knew: the registered nodes, the timeline and the voting term.
    var nodes: [NodeRecord] = []
    var timeline = 0
    var term: Int?

    init(runtime: DaemonRuntime) { self.runtime = runtime }

    private var effector: FenceEffector { FenceEffector(runtime: runtime) }

    /// The local server answered: remembers its postmaster, the only one that can go silent.
    func answered() {
        silentSince = nil
        if let live = Postmaster.identity(dataDirectory: runtime.config.dataDirectory) { answeredBy = live }
    }

    /// Called after a failed attempt to reach the local server. True when the server was ended.
    func observeSilence() async -> Bool {
        let config = runtime.config
        let settings = FenceSettings(config: config)
        guard settings.mode != .off, let live = Postmaster.identity(dataDirectory: config.dataDirectory),
              isTheAnsweringServer(live), runtime.ping(config.conninfo) == .noResponse else {
            silentSince = nil
            return false
        }
        let pid = live.pid
        let now = runtime.now
        let since = silentSince ?? (now - runtime.deadlines.query)
        silentSince = since
        guard let me = nodes.first(where: { $0.nodeID == config.nodeID }) else { return false }
        let (view, peers) = FenceProbe.views(me: me, nodes: nodes, sightings: [])
        let verdict = SilenceRule.replaceable(primary: view, peers: peers, mode: settings.mode)
        guard SilenceRule.mustEnd(silentSince: since, now: now, timing: settings.timing, callDeadline: runtime.deadlines.query,
                                  replaceable: verdict.isolated) else { return false }
        let details = "the local server (postmaster pid \(pid)) has not answered for \(String(cFormat: "%.1f", now - since)) s "
            + "and the other nodes could elect a new primary without it"
        let fact = FenceFact(nodeID: config.nodeID, reason: .silent, timeline: timeline, term: term, action: settings.action,
                             details: details, previousSynchronousStandbyNames: nil,
                             fencedAt: Timestamp.now(zone: true))
        do { try effector.store.save(fact) } catch {
            runtime.logger.error("unable to persist the fence: \((error as? KeelError)?.message ?? "\(error)"); fencing anyway")
        }
        let ended = Postmaster.kill(pid: pid, within: 5)
        runtime.logger.error("fencing \(config.nodeLabel): \(details); server \(ended ? "ended (SIGKILL)" : "could not be ended")")
        let result = ended ? await effector.applyAfterKill(settings.action) : "the postmaster did not exit after SIGKILL"
        await effector.finishFence(fact: fact, succeeded: ended, result: result, eventOn: nil, primary: nil)
        silentSince = nil
        return ended
    }

    /// True when `live` is the postmaster that last answered; logs once a postmaster started since.
    private func isTheAnsweringServer(_ live: PostmasterIdentity) -> Bool {
        if SilenceRule.isSilentServer(live: live, lastAnswered: answeredBy) { return true }
        if reportedNewcomer != live {
            reportedNewcomer = live
            runtime.logger.info("postmaster pid \(live.pid) started after the local server last answered: left to start up, never ended as a silent server")
        }
        return false
    }
}

/// The local postmaster, by the pid in `postmaster.pid` (PostgreSQL's own lock file).
enum Postmaster {
    /// The postmaster named in `postmaster.pid` with its start time when it is a live process (not a zombie),
    /// else `nil`. A standalone backend's negative pid (`postgres --single`) is no postmaster.
    static func identity(dataDirectory: String) -> PostmasterIdentity? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = pid_t(String(first).trimmingWhitespace()),
              pid > 0, Glibc.kill(pid, 0) == 0, let stat = ProcessStat.read(pid), !stat.hasEnded else { return nil }
        return PostmasterIdentity(pid: pid, startTime: stat.startTime)
    }

    /// SIGKILL to the postmaster and its children; true once the postmaster is gone (waited up to `within` s).
    /// Waits until the children are gone too: a new postmaster refuses to start while any process of the
    /// old one still holds its shared memory.
    static func kill(pid: pid_t, within seconds: Double) -> Bool {
        let group = getpgid(pid) == pid
        let children = children(of: pid)
        if group { _ = Glibc.kill(-pid, SIGKILL) }
        for child in children { _ = Glibc.kill(child, SIGKILL) }
        _ = Glibc.kill(pid, SIGKILL)
        let deadline = Date().addingTimeInterval(seconds)
        func gone(_ p: pid_t) -> Bool { Glibc.kill(p, 0) != 0 || ProcessStat.read(p)?.hasEnded == true }
        while Date() < deadline {
            if gone(pid), children.allSatisfy(gone), !group || Glibc.kill(-pid, 0) != 0 { return true }
            usleep(20_000)
        }
        return gone(pid)
    }

    /// The pids whose parent is `pid`.
    private static func children(of pid: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { ProcessStat.read($0)?.parentPID == pid }
    }
}

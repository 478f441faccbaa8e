/// When keeld fences a local server that runs as primary but has stopped answering altogether: its
/// postmaster is alive (not crashed, not stopped) yet no connection attempt gets any answer — frozen by
/// SIGSTOP, a paused VM, a hung kernel path. Such a server acknowledges nothing while it is silent, but
/// the commits it holds are acknowledged the instant it resumes; by then the standbys, for which it
/// has simply vanished, may have promoted one of their own. keeld therefore ends the silent server
/// (SIGKILL of the postmaster and its children: a crash, recovered from at the next start) before any
/// standby can be promoted, and applies `fence_action` to what is left.
///
/// Pure arithmetic, seconds on the daemon's monotonic clock. The silence counts from the first local
/// check that got no answer; it must last `primary_isolation_timeout` (the same `T` that fences an
/// isolated primary before the standbys' detection window ends, see `FenceTiming`) and at least one
/// more call deadline, so that one slow answer never ends a healthy server. Only a server the other
/// nodes could replace is ended: with every other node counted as unseen, `IsolationRule` must say the
/// primary is isolated (never in a two-node cluster under `fencing=auto`, never with `fencing=off`).
public enum SilenceRule {
    /// Whether a local server silent since `silentSince` must be ended at `now`. `callDeadline` is the
    /// deadline of one local check (`ConnectionDeadlines.query`); `replaceable` is the `IsolationRule`
    /// verdict with every other node unseen.
    public static func mustEnd(silentSince: Double, now: Double, timing: FenceTiming, callDeadline: Double,
                               replaceable: Bool) -> Bool {
        replaceable && now - silentSince >= max(timing.isolationTimeout, callDeadline)
    }

    /// Whether the live postmaster (`live`) is the server that keeld last saw answer (`lastAnswered`): only
    /// that server can have gone silent. A postmaster started since — the server went down and is being
    /// started again, by `node rejoin`, by a fence or by hand — does not answer yet because it is starting
    /// up (its lock file is written before it listens), and a pid reused by another process is no server
    /// at all: neither is ever ended. Unknown identities never match.
    public static func isSilentServer(live: PostmasterIdentity?, lastAnswered: PostmasterIdentity?) -> Bool {
        guard let live, let lastAnswered else { return false }
        return live == lastAnswered
    }

    /// The verdict for a silent primary: every other node is treated as unseen by it.
    public static func replaceable(primary: PeerView, peers: [PeerView], mode: FencingMode) -> IsolationRule.Verdict {
        let unseen = peers.map { peer -> PeerView in
            var peer = peer
            peer.reachable = false
            return peer
        }
        return IsolationRule.evaluate(primary: primary, peers: unseen, mode: mode)
    }
}

/// A postmaster as keeld sees it: the pid in `postmaster.pid` and that process's start time (clock ticks
/// after boot, field 22 of `/proc/<pid>/stat`), so that a restarted server, or the pid of a dead postmaster
/// reused by another process, is told apart from the server that was running before.
public struct PostmasterIdentity: Sendable, Equatable {
    /// The process ID.
    public var pid: Int32
    /// The process start time, clock ticks after boot.
    public var startTime: UInt64

    /// Makes the identity.
    public init(pid: Int32, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }
}

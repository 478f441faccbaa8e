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

import Testing
@testable import KeelCore

@Suite("silence rule: a primary whose server stopped answering is ended before a standby can be promoted")
struct SilenceRuleTests {
    private func cluster(standbys: Int, witness: Bool) -> (PeerView, [PeerView]) {
        let primary = PeerView(nodeID: 1, name: "p", type: .primary, location: "dc1")
        var peers = (0..<standbys).map { i in
            PeerView(nodeID: i + 2, name: "s\(i + 2)", type: .standby, upstreamNodeID: 1, location: "dc1")
        }
        if witness { peers.append(PeerView(nodeID: 99, name: "w", type: .witness, upstreamNodeID: 1, priority: 0)) }
        return (primary, peers)
    }

    @Test("silence counts for primary_isolation_timeout, and never less than one call deadline")
    func duration() {
        let t = FenceTiming(monitorInterval: 1, reconnectAttempts: 9, reconnectInterval: 1)
        #expect(t.isolationTimeout == 3)
        #expect(!SilenceRule.mustEnd(silentSince: 10, now: 12.9, timing: t, callDeadline: 1, replaceable: true))
        #expect(SilenceRule.mustEnd(silentSince: 10, now: 13, timing: t, callDeadline: 1, replaceable: true))
        // A derived timeout of 0 (window too short) still waits one more deadline: one slow answer is not silence.
        let short = FenceTiming(monitorInterval: 1, reconnectAttempts: 2, reconnectInterval: 1)
        #expect(short.isolationTimeout == 0)
        #expect(!SilenceRule.mustEnd(silentSince: 10, now: 10.5, timing: short, callDeadline: 1, replaceable: true))
        #expect(SilenceRule.mustEnd(silentSince: 10, now: 11, timing: short, callDeadline: 1, replaceable: true))
    }

    @Test("only the postmaster that last answered can be silent: a restarted server, a reused pid or an unknown one never is")
    func sameServer() {
        let answered = PostmasterIdentity(pid: 4242, startTime: 1000)
        #expect(SilenceRule.isSilentServer(live: answered, lastAnswered: answered))
        // The server crashed and is being started again (node rejoin): a new postmaster, still starting up.
        #expect(!SilenceRule.isSilentServer(live: PostmasterIdentity(pid: 5151, startTime: 9000), lastAnswered: answered))
        // The dead postmaster's pid reused by another process: a later start time.
        #expect(!SilenceRule.isSilentServer(live: PostmasterIdentity(pid: 4242, startTime: 9000), lastAnswered: answered))
        #expect(!SilenceRule.isSilentServer(live: nil, lastAnswered: answered))
        #expect(!SilenceRule.isSilentServer(live: answered, lastAnswered: nil))
    }

    @Test("a server the others cannot replace is never ended, however long it is silent")
    func notReplaceable() {
        let t = FenceTiming(monitorInterval: 1, reconnectAttempts: 3, reconnectInterval: 1)
        #expect(!SilenceRule.mustEnd(silentSince: 0, now: 1e6, timing: t, callDeadline: 1, replaceable: false))
    }

    @Test("replaceable by the isolation rule with every other node unseen: not in two-node auto, not with fencing off")
    func replaceable() {
        let (p3, three) = cluster(standbys: 2, witness: false)
        #expect(SilenceRule.replaceable(primary: p3, peers: three, mode: .auto).isolated)
        let (p2, two) = cluster(standbys: 1, witness: false)
        #expect(!SilenceRule.replaceable(primary: p2, peers: two, mode: .auto).isolated)
        #expect(SilenceRule.replaceable(primary: p2, peers: two, mode: .strict).isolated)
        #expect(!SilenceRule.replaceable(primary: p3, peers: three, mode: .off).isolated)
        let (pw, withWitness) = cluster(standbys: 1, witness: true)
        #expect(SilenceRule.replaceable(primary: pw, peers: withWitness, mode: .auto).isolated)
        // Only priority-0 standbys: nobody can be promoted, so the silent server is left alone.
        let none = three.map { peer -> PeerView in var peer = peer; peer.priority = 0; return peer }
        #expect(!SilenceRule.replaceable(primary: p3, peers: none, mode: .strict).isolated)
    }
}

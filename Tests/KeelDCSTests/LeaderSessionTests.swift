import Testing
import KeelCore
@testable import KeelDCS
import KeelNet

/// A clock the test moves.
final class TestClock: @unchecked Sendable {
    private let lock = Lock()
    private var value = 0.0
    var now: Double { lock.withLock { value } }
    func advance(_ seconds: Double) { lock.withLock { value += seconds } }
}

@Suite("the leader session over an in-memory store with etcd's lease semantics")
struct LeaderSessionTests {
    static let settings = DCSSettings(endpoints: [DCSEndpoint(host: "127.0.0.1", port: 2379)], ttl: 10, prefix: "/keel/test")

    static func pair() -> (InMemoryStore, TestClock, LeaderSession, LeaderSession) {
        let clock = TestClock()
        let store = InMemoryStore(clock: { clock.now })
        return (store, clock, LeaderSession(store: store, settings: settings, nodeID: 1, clock: { clock.now }),
                LeaderSession(store: store, settings: settings, nodeID: 2, clock: { clock.now }))
    }

    @Test("the first node creates the key; the second sees it held until the first stops renewing and the lease expires")
    func oneHolderPerLease() throws {
        let (_, clock, one, two) = Self.pair()
        #expect(one.attempt() == .held(sentAt: 0))
        #expect(two.attempt() == .heldBy(nodeID: 1))
        clock.advance(9)
        #expect(one.attempt() == .held(sentAt: 9), "renewed")
        clock.advance(9.75)
        #expect(two.attempt() == .heldBy(nodeID: 1), "the renewed lease still runs")
        clock.advance(0.5)
        #expect(two.attempt() == .held(sentAt: 19.25), "expired: won")
        #expect(one.attempt() == .heldBy(nodeID: 2), "the former holder sees it lost the key")
        #expect(try one.leader()?.nodeID == 2)
    }

    @Test("two standbys racing for an absent key: exactly one wins")
    func race() {
        let (_, _, one, two) = Self.pair()
        let results = [two.attempt(), one.attempt()]
        #expect(results == [.held(sentAt: 0), .heldBy(nodeID: 2)])
    }

    @Test("an unreachable store is an observation, not an error; a keeld restarted on the holder moves the key to its new lease")
    func unreachableAndRestart() throws {
        let (store, clock, one, _) = Self.pair()
        #expect(one.attempt() == .held(sentAt: 0))
        store.reachable = false
        guard case .unavailable = one.attempt() else { Issue.record("unreachable must be .unavailable"); return }
        store.reachable = true
        let restarted = LeaderSession(store: store, settings: Self.settings, nodeID: 1, clock: { clock.now })
        clock.advance(1)
        #expect(restarted.attempt() == .held(sentAt: 1))
        let lease = try store.get(Self.settings.leaderKey)?.lease
        clock.advance(9.5)
        #expect(restarted.attempt() == .held(sentAt: 10.5), "the key lives under the new lease, renewed")
        #expect(try store.get(Self.settings.leaderKey)?.lease == lease)
    }

    @Test("release hands the key over at once (switchover); a member status is published under the lease and goes with it")
    func releaseAndMembers() throws {
        let (_, clock, one, two) = Self.pair()
        #expect(one.attempt() == .held(sentAt: 0))
        try one.publish(MemberStatus(role: "primary", name: "node1", lsn: "0/3000060", timeline: 1, fenced: false))
        #expect(try two.release() == false, "only the holder releases")
        #expect(try one.release() == true)
        #expect(two.attempt() == .held(sentAt: 0))
        #expect(try two.members()[1] == #"{"fenced":false,"lsn":"0/3000060","name":"node1","role":"primary","timeline":1}"#)
        clock.advance(11)
        _ = two.attempt()
        #expect(try two.members()[1] == nil, "node1's lease expired with its status")
    }

    @Test("at rest: the holder renews its lease every attempt, repeats the transaction every dcs_ttl/4; a member writes an LSN-only change every dcs_ttl/4")
    func traffic() throws {
        let (store, clock, one, two) = Self.pair()
        for second in 0..<10 {
            #expect(one.attempt() == .held(sentAt: Double(second)))
            try two.publish(MemberStatus(role: "standby", name: "node2", lsn: "0/\(second)", timeline: 1, fenced: false))
            clock.advance(1)
        }
        let calls = store.calls
        #expect(calls["keepAlive"] == 9 + 3, "the holder: every attempt after the first; the member: every 2.5 s")
        #expect(calls["putIf"] == 4, "at 0, 3, 6, 9 s")
        #expect(calls["put"] == 4, "the member's LSN-only changes at 0, 3, 6, 9 s")
    }

    @Test("a promotion by hand takes the key over in one transaction; the former holder then sees it lost it, the new keeld adopts it")
    func handover() throws {
        let (store, _, one, two) = Self.pair()
        #expect(one.attempt() == .held(sentAt: 0))
        #expect(try LeaderHandover.takeOver(Self.settings, nodeID: 2, store: store).contains("taken over from node 1"))
        #expect(one.attempt() == .heldBy(nodeID: 2))
        #expect(two.attempt() == .held(sentAt: 0), "node 2's keeld moves the key to its own lease")
        #expect(try LeaderHandover.takeOver(Self.settings, nodeID: 2, store: store).contains("holds the leader key"))
    }

    @Test("the gateway's chunked answers are decoded; an unreachable endpoint fails within the deadline")
    func http() throws {
        let raw = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n".utf8)
        let response = try HTTPExchange.parse(raw, from: "http://h:1")
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "hello world")
        // 192.0.2.1 (TEST-NET-1) is never routed: the connect hangs or fails; either way within the deadline.
        let clock = ContinuousClock()
        let started = clock.now
        let store = EtcdStore(endpoints: [DCSEndpoint(host: "192.0.2.1", port: 2379)], callTimeout: 0.3)
        #expect(throws: DCSError.self) { try store.get("/k") }
        #expect(clock.now - started < .seconds(1))
    }
}

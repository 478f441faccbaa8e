import Foundation
import Testing
import KeelCore
import KeelDCS

/// The etcd client against a real etcd 3.4: the answers the in-memory store of the unit tests imitates.
@Suite("etcd client on a real etcd", .serialized,
       .enabled(if: EtcdCluster.isInstalled, "etcd is not installed (scripts/bootstrap installs Debian's etcd-server): skipped"))
struct EtcdStoreTests {
    @Test("leases, create-if-absent, conditional delete, prefix listing and the leader session, as the fake behaves")
    func semantics() throws {
        let etcd = try EtcdCluster("client")
        let store = etcd.store()
        let settings = DCSSettings(endpoints: etcd.members.map { DCSEndpoint(host: "127.0.0.1", port: $0.clientPort) },
                                   ttl: 5, prefix: "/keel/client/")
        #expect(try store.keepAlive(123_456) == false, "an unknown lease is not renewed")
        let lease = try store.grantLease(ttl: 5)
        #expect(try store.keepAlive(lease))
        let created = try store.putIf("/k", value: "a", lease: lease, condition: .absent)
        #expect(created.done)
        let again = try store.putIf("/k", value: "b", lease: lease, condition: .absent)
        #expect(!again.done && again.current?.value == "a" && again.current?.lease == lease)
        let revision = try #require(again.current?.modRevision)
        #expect(try store.putIf("/k", value: "c", lease: lease, condition: .modRevision(revision)).done)
        #expect(try store.deleteIf("/k", value: "a") == false)
        #expect(try store.deleteIf("/k", value: "c"))
        #expect(try store.get("/k") == nil)
        #expect(throws: DCSError.self) { try store.put("/k", value: "x", lease: 999) }
        #expect(try store.putIf("/k", value: "d", lease: lease, condition: .absent).done)
        try store.revokeLease(lease)
        #expect(try store.get("/k") == nil, "revoking a lease deletes its keys")
        #expect(try store.keepAlive(lease) == false)
        try store.revokeLease(lease)

        let clock: @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
        let one = LeaderSession(store: store, settings: settings, nodeID: 1, clock: clock)
        let two = LeaderSession(store: store, settings: settings, nodeID: 2, clock: clock)
        guard case .held = one.attempt() else { Issue.record("node 1 creates the key"); return }
        #expect(two.attempt() == .heldBy(nodeID: 1))
        try one.publish(MemberStatus(role: "primary", name: "node1", lsn: "0/1", timeline: 1, fenced: false))
        try two.publish(MemberStatus(role: "standby", name: "node2", lsn: "0/1", timeline: 1, fenced: false))
        #expect(try one.members().keys.sorted() == [1, 2])
        #expect(try one.release())
        guard case .held = two.attempt() else { Issue.record("node 2 wins the released key"); return }
        #expect(try one.leader()?.nodeID == 2)
        #expect(try LeaderHandover.takeOver(settings, nodeID: 1).contains("taken over from node 2"))
        #expect(two.attempt() == .heldBy(nodeID: 1), "the former holder's lease was revoked: it sees the key lost at once")
        guard case .held = one.attempt() else { Issue.record("node 1's session adopts the key"); return }
        try one.publish(MemberStatus(role: "primary", name: "node1", lsn: "0/1", timeline: 1, fenced: false))
        let view = try ConsensusView.read(settings)
        #expect(view.leader?.nodeID == 1 && view.members[1]?.role == "primary")
    }
}

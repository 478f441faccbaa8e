import Testing
import KeelCore
@testable import KeelDCS

@Suite("keel service pause in the consensus store: pause keys and the pause in force")
struct PauseKeysTests {
    static let settings = LeaderSessionTests.settings

    @Test("the pause rule: a key in the store wins over the metadata flag; no key or no answer leaves the flag in force")
    func rule() {
        for flag in [false, true] {
            #expect(PauseRule.isPaused(metadata: flag, stored: .paused))
            #expect(!PauseRule.isPaused(metadata: flag, stored: .unpaused))
            #expect(PauseRule.isPaused(metadata: flag, stored: .absent) == flag)
            #expect(PauseRule.isPaused(metadata: flag, stored: .unreachable("down")) == flag)
        }
        #expect(StoredPause(value: "paused") == .paused)
        #expect(StoredPause(value: "unpaused") == .unpaused)
        #expect(StoredPause(value: "yes") == .absent)
        #expect(StoredPause(value: nil) == .absent)
    }

    @Test("pause then unpause written for every node (no lease), read back; an unreachable store falls back to the flags")
    func writeRead() throws {
        let clock = TestClock()
        let store = InMemoryStore(clock: { clock.now })
        try PauseKeys.write(true, nodeIDs: [1, 2, 3], store: store, settings: Self.settings)
        #expect(try store.get("/keel/test/paused/2")?.value == "paused")
        #expect(try store.get("/keel/test/paused/2")?.lease == 0, "outlives every keeld's lease")
        #expect(try PauseKeys.read(store: store, settings: Self.settings) == [1: .paused, 2: .paused, 3: .paused])
        try PauseKeys.write(false, nodeIDs: [2], store: store, settings: Self.settings)
        let flags = [1: false, 2: true, 3: false, 4: true]
        let (paused, failure) = PauseKeys.effective(metadata: flags, store: store, settings: Self.settings)
        #expect(paused == [1: true, 2: false, 3: true, 4: true], "node 4 has no key: its flag")
        #expect(failure == nil)
        store.reachable = false
        #expect(throws: DCSError.self) { try PauseKeys.write(true, nodeIDs: [1], store: store, settings: Self.settings) }
        let fallback = PauseKeys.effective(metadata: flags, store: store, settings: Self.settings)
        #expect(fallback.paused == flags)
        #expect(fallback.failure?.contains("unreachable") == true)
    }

    @Test("keeld's read of its pause key: at most every dcs_ttl/4 seconds, also after a failure; at once when the metadata flag changed")
    func sessionRead() throws {
        let clock = TestClock()
        let store = InMemoryStore(clock: { clock.now })
        let session = LeaderSession(store: store, settings: Self.settings, nodeID: 2, clock: { clock.now })
        #expect(session.storedPause(metadataFlag: false) == .absent)
        try PauseKeys.write(true, nodeIDs: [1, 2], store: store, settings: Self.settings)
        clock.advance(2)
        #expect(session.storedPause(metadataFlag: false) == .absent, "read again only after dcs_ttl/4 = 2.5 s")
        clock.advance(0.5)
        #expect(session.storedPause(metadataFlag: false) == .paused)
        #expect(store.calls["get"] == 2)
        try PauseKeys.write(false, nodeIDs: [2], store: store, settings: Self.settings)
        #expect(session.storedPause(metadataFlag: true) == .unpaused, "the flag changed (a switchover's pause): read at once")
        store.reachable = false
        clock.advance(2.5)
        guard case .unreachable = session.storedPause(metadataFlag: true) else { Issue.record("the failure is reported"); return }
        store.reachable = true
        clock.advance(1)
        guard case .unreachable = session.storedPause(metadataFlag: true) else { Issue.record("not asked again before dcs_ttl/4"); return }
        clock.advance(1.5)
        #expect(session.storedPause(metadataFlag: true) == .unpaused, "asked again after dcs_ttl/4")
        #expect(store.calls["get"] == 4, "the one failed read is not counted by the store")
    }
}

import Logging
import Testing
import KeelCore
import KeelDCS
@testable import KeelDaemon

@Suite("keeld's pause check with a consensus store (in-memory)")
struct PauseInForceTests {
    static let settings = DCSSettings(endpoints: [DCSEndpoint(host: "127.0.0.1", port: 2379)], ttl: 8, prefix: "/keel/test")

    final class Clock: @unchecked Sendable {
        private let lock = Lock()
        private var value = 0.0
        var now: Double { lock.withLock { value } }
        func advance(_ seconds: Double) { lock.withLock { value += seconds } }
    }

    @Test("paused by etcd's key with the metadata flag off (primary down), unpaused by it with the flag on; etcd down: the flag")
    func check() throws {
        let clock = Clock()
        let store = InMemoryStore(clock: { clock.now })
        let session = LeaderSession(store: store, settings: Self.settings, nodeID: 2, clock: { clock.now })
        let logger = Logger(label: "test")
        #expect(!DaemonRuntime.pauseInForce(flag: false, session: nil, logger: logger))
        #expect(DaemonRuntime.pauseInForce(flag: true, session: nil, logger: logger), "without dcs: the flag")
        #expect(DaemonRuntime.pauseInForce(flag: true, session: session, logger: logger), "no key: the flag")
        try PauseKeys.write(true, nodeIDs: [2, 3], store: store, settings: Self.settings)
        clock.advance(2)
        #expect(DaemonRuntime.pauseInForce(flag: false, session: session, logger: logger), "paused with the primary down")
        try PauseKeys.write(false, nodeIDs: [2, 3], store: store, settings: Self.settings)
        clock.advance(2)
        #expect(!DaemonRuntime.pauseInForce(flag: true, session: session, logger: logger), "unpaused with the primary down")
        store.reachable = false
        clock.advance(2)
        #expect(DaemonRuntime.pauseInForce(flag: true, session: session, logger: logger), "etcd down: the flag")
        #expect(!DaemonRuntime.pauseInForce(flag: false, session: session, logger: logger))
    }
}

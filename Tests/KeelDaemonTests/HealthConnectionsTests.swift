import Testing
import KeelCore
@testable import KeelDaemon

/// The health routes' connection pool without a server: at most `capacity` leases, a request waiting for
/// a free place (bounded), places freed by a release, and a new conninfo starting afresh.
@Suite("keeld's health connections: bounded, waiting, reset on a new conninfo")
struct HealthConnectionsTests {
    @Test("at most capacity places; the next waits and gets one when released, or nil at its deadline")
    func bounded() throws {
        let pool = HealthConnections()
        var leases: [HealthConnections.Lease] = []
        for _ in 0..<HealthConnections.capacity {
            let lease = try #require(pool.lease("host=a", waiting: 0.01))
            #expect(lease.connection == nil, "nothing idle yet: open one")
            leases.append(lease)
        }
        let clock = ContinuousClock()
        let started = clock.now
        #expect(pool.lease("host=a", waiting: 0.1) == nil)
        #expect(clock.now - started >= .milliseconds(100))
        let first = leases.removeFirst()
        _ = startThread(name: "release", stackSize: 0) {
            sleepThread(seconds: 0.05)
            pool.release(first, keeping: nil)
        }
        #expect(pool.lease("host=a", waiting: 2) != nil, "a released place is taken by the waiting request")
        #expect(pool.lease("host=b", waiting: 0.01) != nil, "a new conninfo starts with every place free")
        for lease in leases { pool.release(lease, keeping: nil) }
        #expect(pool.lease("host=b", waiting: 0.01) != nil, "releases of the old conninfo's leases change nothing")
    }
}

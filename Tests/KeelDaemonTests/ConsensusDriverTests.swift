import Testing
import KeelCore
@testable import KeelDaemon

@Suite("standby driver with a consensus store: the leader key is won before promoting")
struct ConsensusDriverTests {
    @Test("the election's winner claims the key, then promotes")
    func claimThenPromote() async throws {
        let run = DriverRun(fast)
        let outcome = try await run.run(until: 10) { now, port in port.upstreamUp = now < 1 }
        #expect(outcome == .leftRecovery)
        let promote = try #require(run.port.actions.firstIndex { $0.hasPrefix("promote") })
        #expect(run.port.claims == [promote], "one claim, just before the promotion")
    }

    @Test("two standbys racing: the one that did not win the key does not promote, records the refusal, and follows the winner")
    func loserFollows() async throws {
        let run = DriverRun(fast)
        try await run.run(until: 12) { now, port in
            port.upstreamUp = now < 1
            port.claimRefusal = "node 3 holds the leader key in the consensus store (its lease is being renewed)"
            if now >= 6 { port.primaries = [3] }
        }
        #expect(!run.port.actions.contains { $0.hasPrefix("promote") }, "never promoted without the key")
        #expect(run.port.promotions == 0)
        #expect(!run.port.claims.isEmpty)
        #expect(run.port.events.contains(.promoteError))
        #expect(run.port.logs.contains { $0.1.contains("not promoted: node 3 holds the leader key") })
        #expect(run.port.actions.contains("follow 3"))
        #expect(run.kind == .monitoring)
    }
}

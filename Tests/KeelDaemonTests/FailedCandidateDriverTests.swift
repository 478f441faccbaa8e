import Testing
import KeelCore
@testable import KeelDaemon

/// The standby loop with a winner that never becomes primary (its promotion failed): the rerun after
/// `primary_notification_timeout` leaves it out and this node promotes, instead of waiting for it again.
@Suite("keeld's standby loop: a failed candidate is not elected again", .serialized)
struct FailedCandidateDriverTests {
    @Test("charlie wins but never becomes primary: after primary_notification_timeout bravo reruns the election without it and promotes")
    func rerunPromotesNextCandidate() async throws {
        let run = DriverRun(fast)
        let outcome = try await run.run(until: 20) { now, port in
            port.upstreamUp = now < 1
            port.charlieLSN = 0x6000
        }
        #expect(outcome == .leftRecovery)
        #expect(run.port.gathers.count == 2, "one election, one rerun: \(run.port.gathers)")
        #expect(run.port.actions == ["promote 8"])
        let rerun = try #require(run.port.gathers.last)
        let first = try #require(run.port.gathers.first)
        #expect(rerun - first >= fast.primaryNotificationTimeout, "the rerun waited primary_notification_timeout")
        #expect(run.port.logs.contains { $0.1.contains(
            "excluding node \"charlie\" (ID: 3): elected but not primary after primary_notification_timeout") })
        #expect(run.driver.machine.failedCandidates.isEmpty, "promoted: the failover is over")
    }

    @Test("this node's own promotion fails: degraded, it follows the standby that promotes next")
    func failedWinnerFollows() async throws {
        let run = DriverRun(fast)
        try await run.run(until: 20) { now, port in
            port.upstreamUp = now < 1
            port.promoteSucceeds = false
            if now >= 10 { port.primaries = [3] }
        }
        #expect(run.port.actions == ["promote 8", "follow 3"])
        #expect(run.port.events.contains(.promoteError))
        #expect(run.kind == .monitoring)
    }
}

import Testing
@testable import KeelCore

@Suite("fence timing: an isolated primary fences before a standby can be promoted")
struct FenceTimingTests {
    @Test("repmgr's defaults: D = (6 − 1) × 10 = 50 s; derived timeout 50 − 2 − 2 − 1 = 45 s; fence by 46 s")
    func defaults() {
        let t = FenceTiming(monitorInterval: 2, reconnectAttempts: 6, reconnectInterval: 10)
        #expect(t.standbyDetectionWindow == 50)
        #expect(t.derivedTimeout == 45)
        #expect(t.isolationTimeout == 45)
        #expect(t.latestFence == 46)
        #expect(t.isSafe)
        #expect(t.warning == nil)
    }

    @Test("the derived timeout is safe whenever any timeout is: latestFence < D for every feasible setting")
    func derivedIsSafe() {
        for interval in 1...5 {
            for attempts in 0...8 {
                for reconnect in 0...12 {
                    let t = FenceTiming(monitorInterval: Double(interval), reconnectAttempts: attempts, reconnectInterval: Double(reconnect))
                    let feasible = t.roundPeriod + t.probeTimeout + t.fenceStepTimeout < t.standbyDetectionWindow
                    #expect(t.isSafe == feasible, "interval \(interval), attempts \(attempts), reconnect \(reconnect)")
                    #expect((t.warning == nil) == t.isSafe)
                }
            }
        }
    }

    @Test("a configured timeout too long for the window is unsafe and the warning says the most it may be")
    func configuredTooLong() {
        let t = FenceTiming(monitorInterval: 2, reconnectAttempts: 6, reconnectInterval: 10, configuredTimeout: 60)
        #expect(t.isolationTimeout == 60)
        #expect(!t.isSafe)
        #expect(t.warning?.contains("at most 45 s") == true)
        let ok = FenceTiming(monitorInterval: 2, reconnectAttempts: 6, reconnectInterval: 10, configuredTimeout: 30)
        #expect(ok.isSafe)
    }

    @Test("a window too short (reconnect_attempts 2, reconnect_interval 1) cannot be met, and says so")
    func tooShort() {
        let t = FenceTiming(monitorInterval: 1, reconnectAttempts: 2, reconnectInterval: 1)
        #expect(t.derivedTimeout == 0)
        #expect(!t.isSafe)
        #expect(t.warning?.contains("raise reconnect_attempts or reconnect_interval") == true)
    }

    @Test("mustFence counts from the start of the last round that showed the primary was not isolated")
    func mustFence() {
        let t = FenceTiming(monitorInterval: 1, reconnectAttempts: 9, reconnectInterval: 1)
        #expect(t.isolationTimeout == 3)
        #expect(!t.mustFence(isolatedSince: 10, now: 12.9))
        #expect(t.mustFence(isolatedSince: 10, now: 13))
    }
}

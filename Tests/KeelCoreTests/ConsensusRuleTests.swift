import Testing
@testable import KeelCore

@Suite("consensus store rules: the leader lease, the claim before a promotion, the dcs keys")
struct ConsensusRuleTests {
    // ttl 10, p 2.25, c 1, F 1: margin 5.25, so a primary fences 4.75 s after its last renewal was sent.
    static let rule = LeaseRule(ttl: 10, callTimeout: 1)

    @Test("margin = probe round + two store calls + the first fencing step")
    func margin() {
        #expect(Self.rule.margin == 5.25)
        #expect(Self.rule.warning(monitorInterval: 1) == nil)
        #expect(LeaseRule(ttl: 5, callTimeout: 0.5).warning(monitorInterval: 1)?.contains("raise dcs_ttl above") == true)
    }

    /// (observation, now, seesEveryStandby, failsafe, expected verdict); the memory starts at 0 with the key held at 0.
    static let primaryCases: [(LeaderObservation, Double, Bool, Bool, LeaseRule.Verdict)] = [
        (.held(sentAt: 3), 3.2, false, false, .hold(deadline: 7.75)),
        (.unavailable(reason: "down"), 4, false, false, .hold(deadline: 4.75)),
        (.unavailable(reason: "down"), 4.75, false, false, .fence(reason: "")),
        (.unavailable(reason: "down"), 4.75, true, false, .fence(reason: "")),
        (.unavailable(reason: "down"), 4.75, true, true, .failsafe),
        (.unavailable(reason: "down"), 4.75, false, true, .fence(reason: "")),
        (.heldBy(nodeID: 2), 1, true, true, .fence(reason: "")),
    ]

    @Test("a primary that held the key: holds while renewed, fences ttl − margin after the last renewal, at once when another node holds it; failsafe only while it sees every standby")
    func primaryRule() {
        for (observation, now, sees, failsafe, expected) in Self.primaryCases {
            var rule = Self.rule
            rule.failsafe = failsafe
            var memory = LeaseRule.Memory(startedAt: 0, wonAt: 0)
            let verdict = rule.decide(observation, now: now, memory: &memory, seesEveryStandby: sees)
            switch (verdict, expected) {
            case (.fence, .fence): break
            default: #expect(verdict == expected, "\(observation) at \(now), sees \(sees), failsafe \(failsafe)")
            }
        }
    }

    @Test("a new primary (switchover, promote by hand) waits ttl + margin for the former primary's key, then fences")
    func newPrimaryWaits() {
        var memory = LeaseRule.Memory(startedAt: 100)
        #expect(Self.rule.decide(.heldBy(nodeID: 1), now: 101, memory: &memory, seesEveryStandby: true) == .hold(deadline: 115.25))
        #expect(Self.rule.decide(.held(sentAt: 102), now: 102, memory: &memory, seesEveryStandby: true) == .hold(deadline: 106.75))
        var stale = LeaseRule.Memory(startedAt: 100)
        if case .fence = Self.rule.decide(.heldBy(nodeID: 1), now: 115.25, memory: &stale, seesEveryStandby: true) {} else {
            Issue.record("must fence once the patience is over")
        }
    }

    @Test("a standby promotes only after winning the key; retries while the lost primary's lease may run; refuses after ttl + 2c")
    func claimRule() {
        let claim = ClaimRule(ttl: 10, callTimeout: 1)
        #expect(claim.decide(.held(sentAt: 5), firstAttempt: 0, now: 5, interval: 1) == .promote)
        #expect(claim.decide(.heldBy(nodeID: 1), firstAttempt: 0, now: 5, interval: 1) == .retry(at: 6))
        #expect(claim.decide(.unavailable(reason: "x"), firstAttempt: 0, now: 11.5, interval: 1) == .retry(at: 12))
        guard case .refuse(let reason) = claim.decide(.heldBy(nodeID: 3), firstAttempt: 0, now: 12, interval: 1) else {
            Issue.record("must refuse")
            return
        }
        #expect(reason.contains("node 3 holds the leader key"))
        guard case .refuse(let down) = claim.decide(.unavailable(reason: "refused"), firstAttempt: 0, now: 12, interval: 1) else {
            Issue.record("an unreachable store never allows a promotion")
            return
        }
        #expect(down.contains("could not be reached"))
    }

    @Test("dcs parses etcd endpoints; bad values name what is wrong")
    func parse() throws {
        #expect(try DCSSettings.parse("") == [])
        #expect(try DCSSettings.parse("etcd:http://10.0.0.1:2379, http://h2,http://[::1]:2380/") ==
            [DCSEndpoint(host: "10.0.0.1", port: 2379), DCSEndpoint(host: "h2", port: 2379), DCSEndpoint(host: "::1", port: 2380)])
        for (bad, phrase) in [("consul:http://h:1", "unsupported store"), ("etcd:https://h:2379", "TLS is not supported"),
                              ("etcd:http://h:99999", "not in 1-65535"), ("etcd:http://h:1,", "expected http://HOST:PORT"),
                              ("etcd:h:2379", "expected http://HOST:PORT")] {
            #expect(throws: KeelError.self) { try DCSSettings.parse(bad) }
            do { _ = try DCSSettings.parse(bad) } catch { #expect(error.message.contains(phrase), "\(bad): \(error.message)") }
        }
    }

    @Test("keys: the default prefix comes from cluster_name; dcs_ttl has a floor; a relative prefix and a bad dcs are errors naming the key")
    func configKeys() throws {
        let config = try ConfigFixtures.parse("dcs='etcd:http://127.0.0.1:2379'\ncluster_name=prod\n")
        let settings = try #require(DCSSettings(config: config))
        #expect(settings.prefix == "/keel/prod/")
        #expect(settings.leaderKey == "/keel/prod/leader")
        #expect(settings.memberKey(3) == "/keel/prod/members/3")
        #expect(settings.ttl == 30 && !settings.failsafe)
        #expect(settings.callTimeout == 3)
        #expect(DCSSettings(config: try ConfigFixtures.parse("")) == nil)
        for (text, key) in [("dcs='etcd:https://h:1'\n", "dcs"), ("dcs_prefix='keel/'\n", "dcs_prefix"),
                            ("cluster_name='a/b'\n", "cluster_name"), ("dcs_ttl=2\n", "dcs_ttl")] {
            let errors = "\(ConfigFixtures.failure(text).map { "\($0)" } ?? "loaded")"
            #expect(errors.contains(key), "\(text): \(errors)")
        }
    }
}

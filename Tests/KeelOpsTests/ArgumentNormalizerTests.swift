import Testing
@testable import KeelOps

@Suite("keel's grammar: options anywhere, words case-insensitive, repmgr's aliases")
struct ArgumentNormalizerTests {
    @Test("rewrites to OBJECT ACTION OPTIONS", arguments: [
        (["-f", "a.conf", "standby", "promote"], ["standby", "promote", "-f", "a.conf"]),
        (["standby", "promote", "-f", "a.conf"], ["standby", "promote", "-f", "a.conf"]),
        (["-f", "a.conf", "STANDBY", "Clone", "-h", "db1", "--dry-run"], ["standby", "clone", "-f", "a.conf", "-h", "db1", "--dry-run"]),
        (["master", "register"], ["primary", "register"]),
        (["cluster", "events", "--limit", "5"], ["cluster", "event", "--limit", "5"]),
        (["primary", "check", "--role"], ["node", "check", "--role"]),
        (["--config-file=a.conf", "node", "status"], ["node", "status", "--config-file=a.conf"]),
        (["-h", "primary", "witness", "register"], ["witness", "register", "-h", "primary"]),
    ])
    func normalizes(input: [String], expected: [String]) {
        #expect(ArgumentNormalizer.normalize(input) == expected)
    }

    @Test("a playbook path keeps its case")
    func playbook() {
        #expect(ArgumentNormalizer.normalize(["RUN", "Switchover.lua", "--yes"]) == ["run", "Switchover.lua", "--yes"])
    }
}

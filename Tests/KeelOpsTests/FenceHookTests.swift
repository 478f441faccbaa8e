import Foundation
import Testing
import KeelCore
@testable import KeelOps

/// The `fence_command` hook point and the fencing keys, without a database.
@Suite("fence_command hook and fencing keys")
struct FenceHookTests {
    @Test("fence_command is a hook key (keel hook test knows it); its table gives the shell %n %a %d")
    func hookPoint() {
        #expect(HookPoint.all.contains(.fence))
        let config = testConfig(id: 1, "fence_command='echo %n %a %d'")
        #expect(Hook(.fence, in: config) == .shell("echo %n %a %d"))
        let table = HookContext.synthetic(for: .fence, config: config)
        #expect(table["reason"] == .string("isolated"))
        #expect(table["action"] == .string("demote"))
        let placeholders = HookContext.placeholders(for: .fence, table)
        #expect(placeholders["n"] == "1")
        #expect(placeholders["a"] == "node1")
        #expect(placeholders["d"]?.contains("nodes sharing this primary as upstream") == true)
        #expect(HookRunner.threadName(.fence) == "keel-lua-fence")
    }

    @Test("fencing keys: defaults, and values read into FenceSettings with the derived timeout")
    func settings() {
        let defaults = FenceSettings(config: testConfig(id: 1))
        #expect(defaults.mode == .auto && defaults.action == .demote && !defaults.autoRejoin)
        #expect(defaults.timing.configuredTimeout == nil)
        #expect(defaults.timing.isolationTimeout == 45)
        let set = FenceSettings(config: testConfig(id: 1, """
            fencing=strict
            fence_action=stop
            auto_rejoin=on
            primary_isolation_timeout=20
            """))
        #expect(set.mode == .strict && set.action == .stop && set.autoRejoin)
        #expect(set.timing.isolationTimeout == 20)
    }

    @Test("a bad fencing value is an error naming the key")
    func badValue() {
        #expect(throws: (any Error).self) {
            try KeelConfig.parse(text: "node_id=1\nnode_name='n'\nconninfo='host=x'\ndata_directory='/d'\nfencing=maybe\n", file: "/x/keel.conf")
        }
    }
}

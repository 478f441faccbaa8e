import Testing
import KeelCore
@testable import KeelOps

/// `standby register` over an existing record of this node ID (no database).
@Suite("standby register over an existing record")
struct StandbyRegisterTests {
    static func allowed(_ type: NodeType, active: Bool, force: Bool) -> Bool {
        (try? StandbyRegister.checkOverwrite(ClusterShowTests.node(2, type, active: active), force: force)) != nil
    }

    @Test("a standby's record with --force; an inactive primary's only with --force; the active primary's and a witness's never")
    func overwrite() {
        #expect(Self.allowed(.standby, active: true, force: true))
        #expect(!Self.allowed(.standby, active: true, force: false))
        #expect(Self.allowed(.primary, active: false, force: true))
        #expect(!Self.allowed(.primary, active: false, force: false))
        #expect(!Self.allowed(.primary, active: true, force: true))
        #expect(!Self.allowed(.witness, active: true, force: true))
    }

    @Test("the refusal for the active primary names the node and says why")
    func activePrimaryMessage() throws {
        let error = try #require(throws: KeelError.self) {
            try StandbyRegister.checkOverwrite(ClusterShowTests.node(2, .primary), force: true)
        }
        #expect(error.message == "node \"node2\" (ID: 2) is registered as the active primary; not replacing its record with a standby's")
        #expect(error.status == .badConfig)
    }
}

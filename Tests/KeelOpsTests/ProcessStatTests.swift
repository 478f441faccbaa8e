import Foundation
import Testing
@testable import KeelOps

/// `/proc/<pid>/stat` lines, whose command name may hold spaces and parentheses.
@Suite("process stat")
struct ProcessStatTests {
    /// A line as Linux writes it, 52 fields, with `comm` and the fields Keel reads substituted.
    static func line(comm: String, state: String, parent: Int, start: Int) -> String {
        var after = (3...52).map { "\($0)" }
        after[0] = state
        after[1] = "\(parent)"
        after[19] = "\(start)"
        return "4242 (\(comm)) " + after.joined(separator: " ") + "\n"
    }

    @Test("state, parent and start time are counted after the last ')', whatever the command name holds")
    func parsesAfterTheCommandName() {
        for comm in ["postgres", "a b) S 1 2 (c", ")", "x)) Z 9"] {
            let stat = ProcessStat.parse(Self.line(comm: comm, state: "T", parent: 77, start: 123_456_789))
            #expect(stat == ProcessStat(state: "T", parentPID: 77, startTime: 123_456_789), "\(comm)")
            #expect(stat?.hasEnded == false)
        }
        #expect(ProcessStat.parse(Self.line(comm: "pg", state: "Z", parent: 1, start: 5))?.hasEnded == true)
        #expect(ProcessStat.parse(Self.line(comm: "pg", state: "X", parent: 1, start: 5))?.hasEnded == true)
    }

    @Test("a truncated or foreign line is not a stat")
    func rejectsOtherLines() {
        #expect(ProcessStat.parse("") == nil)
        #expect(ProcessStat.parse("4242 (pg) S 1 2 3") == nil)
        #expect(ProcessStat.parse(Self.line(comm: "pg", state: "SS", parent: 1, start: 5)) == nil)
        #expect(ProcessStat.parse(Self.line(comm: "pg", state: "S", parent: 1, start: 5).replacingOccurrences(of: " 1 ", with: " x ")) == nil)
    }

    @Test("this process: not ended, its parent the one getppid names, started after its parent")
    func readsThisProcess() throws {
        let me = try #require(ProcessStat.read(getpid()))
        let parent = try #require(ProcessStat.read(getppid()))
        #expect("RSD".contains(me.state), "\(me.state)")
        #expect(me.parentPID == getppid())
        #expect(me.startTime >= parent.startTime)
        #expect(!me.hasEnded)
    }
}

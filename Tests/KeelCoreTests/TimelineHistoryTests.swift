import Testing
@testable import KeelCore

@Suite("Timeline history files and the follow timeline check (repmgr's check_node_can_attach)")
struct TimelineHistoryTests {
    let history = TimelineHistory(parsing: "1\t0/3000148\tno recovery target specified\n\n2\t0/5000000\tno recovery target specified\n")

    @Test("parses PostgreSQL's history file format")
    func parses() throws {
        let h = try #require(history)
        #expect(h.entries == [TimelineHistory.Entry(timeline: 1, switchpoint: LSN("0/3000148")!, reason: "no recovery target specified"),
                              TimelineHistory.Entry(timeline: 2, switchpoint: LSN("0/5000000")!, reason: "no recovery target specified")])
        #expect(h.switchpoint(of: 1) == LSN("0/3000148"))
        #expect(h.switchpoint(of: 3) == nil)
        #expect(TimelineHistory(parsing: "# comment\n") == TimelineHistory(entries: []))
        #expect(TimelineHistory(parsing: "x\t0/1\n") == nil)
        #expect(TimelineHistory(parsing: "1 nonsense\n") == nil)
    }

    @Test("decides whether a standby can follow a target", arguments: [
        // same timeline: the standby must not be ahead
        (1, "0/3000148", 1, "0/4000000", TimelineCheck.compatible),
        (1, "0/4000001", 1, "0/4000000", TimelineCheck.localLSNAhead(local: LSN("0/4000001")!, target: LSN("0/4000000")!)),
        // target on a later timeline: the standby must not be past the fork point
        (1, "0/3000148", 3, "0/6000000", TimelineCheck.compatible),
        (1, "0/3000000", 2, "0/6000000", TimelineCheck.compatible),
        (1, "0/3000150", 3, "0/6000000", TimelineCheck.forkedBeforeLocalPosition(localTimeline: 1, targetTimeline: 3,
                                                                                  forkPoint: LSN("0/3000148")!, local: LSN("0/3000150")!)),
        (2, "0/5000000", 3, "0/6000000", TimelineCheck.compatible),
        (4, "0/5000000", 5, "0/6000000", TimelineCheck.timelineNotInHistory(localTimeline: 4, targetTimeline: 5)),
        // standby on a later timeline than the target
        (3, "0/1000000", 2, "0/6000000", TimelineCheck.localTimelineAhead(local: 3, target: 2)),
    ])
    func decides(localTLI: Int, localLSN: String, targetTLI: Int, targetLSN: String, expected: TimelineCheck) {
        let verdict = TimelineCheck.evaluate(localTimeline: localTLI, localLSN: LSN(localLSN)!, targetTimeline: targetTLI,
                                             targetLSN: LSN(targetLSN)!, targetHistory: history)
        #expect(verdict == expected)
        #expect(verdict.isCompatible == (expected == .compatible))
        #expect(verdict.explanation.isEmpty == verdict.isCompatible)
    }

    @Test("an unreadable history is treated as unrelated")
    func missingHistory() {
        #expect(TimelineCheck.evaluate(localTimeline: 1, localLSN: LSN("0/1")!, targetTimeline: 2, targetLSN: LSN("0/2")!, targetHistory: nil)
            == .timelineNotInHistory(localTimeline: 1, targetTimeline: 2))
    }
}

import Logging
import Testing
import KeelCore
@testable import KeelOps

/// The plans the operations build from their checks' findings (pure), and the plan runner: steps in order,
/// the undo of the steps already done when one fails, last first.
@Suite("operations as plans: the steps each finding calls for, and the runner's undo")
struct OperationPlanTests {
    @Test("node rejoin: pg_rewind (after crash recovery, around kept files) only when diverged; slot only when missing; wait unless --no-wait")
    func rejoinPlans() {
        #expect(RejoinStep.plan(rewind: false, keepFiles: true, createSlot: false, wait: true)
            == [.writeStandbyConfiguration, .start, .waitForStreaming, .record])
        #expect(RejoinStep.plan(rewind: true, unclean: true, keepFiles: true, createSlot: true, wait: false)
            == [.crashRecovery, .checkpointPrimary, .saveConfigFiles, .rewind, .restoreConfigFiles, .writeStandbyConfiguration, .createSlot, .start, .record])
        #expect(RejoinStep.plan(rewind: true, keepFiles: false, createSlot: false, wait: true)
            == [.checkpointPrimary, .rewind, .writeStandbyConfiguration, .start, .waitForStreaming, .record])
    }

    @Test("standby follow: a restart or a reload; the former upstream's slot dropped only when there is one")
    func followPlans() {
        #expect(FollowStep.plan(createSlot: true, restart: false, dropFormerSlot: true)
            == [.createSlot, .setUpstream, .reload, .waitForStreaming, .dropFormerSlot, .record])
        #expect(FollowStep.plan(createSlot: false, restart: true, dropFormerSlot: false)
            == [.setUpstream, .restart, .waitForStreaming, .record])
    }

    @Test("standby clone: directories cleared only with findings to clear, after the slot and before pg_basebackup; --replication-conf-only copies nothing")
    func clonePlans() {
        #expect(CloneStep.plan(replicationConfOnly: false, createSlot: true, clear: true, verify: true, copyConfigFiles: true)
            == [.createSlot, .clearDirectories, .baseBackup, .verifyBackup, .copyConfigFiles, .writeStandbyConfiguration, .record])
        #expect(CloneStep.plan(replicationConfOnly: false, createSlot: false, clear: false, verify: false, copyConfigFiles: false)
            == [.baseBackup, .writeStandbyConfiguration, .record])
        #expect(CloneStep.plan(replicationConfOnly: true, createSlot: true, clear: true, verify: true, copyConfigFiles: false)
            == [.createSlot, .writeStandbyConfiguration, .record])
    }

    @Test("standby switchover: keeld paused only when some runs, unpaused also with --repmgrd-force-unpause; siblings only with --siblings-follow")
    func switchoverPlans() {
        #expect(SwitchoverStep.plan(pause: true, unpause: true, siblingsFollow: true)
            == [.pauseDaemons, .stopPrimary, .confirmReceived, .promote, .rejoinPrimary, .siblingsFollow, .unpauseDaemons, .record])
        #expect(SwitchoverStep.plan(pause: false, unpause: true, siblingsFollow: false)
            == [.stopPrimary, .confirmReceived, .promote, .rejoinPrimary, .unpauseDaemons, .record])
        #expect(SwitchoverStep.plan(pause: false, unpause: false, siblingsFollow: false)
            == [.stopPrimary, .confirmReceived, .promote, .rejoinPrimary, .record])
    }

    @Test("clone: each tablespace goes where tablespace_mapping says, else to the same path (unmapped)")
    func tablespaceTargets() {
        let mappings = [TablespaceMapping("/srv/ts1=/data/ts1")!, TablespaceMapping("/srv/a\\=b=/data/ab")!]
        let targets = StandbyClone.tablespaceTargets([("ts1", "/srv/ts1"), ("ab", "/srv/a=b"), ("other", "/srv/other")], mappings: mappings)
        #expect(targets.map(\.target) == ["/data/ts1", "/data/ab", "/srv/other"])
        #expect(targets.map(\.mapped) == [true, true, false])
    }

    @Test("--recovery-min-apply-delay takes an integer with an optional unit")
    func durations() {
        #expect(StandbyCloneOptionCheck.isDuration("300") && StandbyCloneOptionCheck.isDuration("5min") && StandbyCloneOptionCheck.isDuration("2 h"))
        #expect(!StandbyCloneOptionCheck.isDuration("5 minutes") && !StandbyCloneOptionCheck.isDuration("min") && !StandbyCloneOptionCheck.isDuration("10x"))
    }

    @Test("the runner runs the steps in order; when one fails, the undo of each step done runs, last first, and the step's error comes back")
    func runnerUndo() async {
        final class Trace: @unchecked Sendable { var lines: [String] = [] }
        let trace = Trace()
        struct Failed: Error, Equatable {}
        let plan = OperationPlan(ready: "ready", steps: [
            PlanStep("a", detail: "would a", undo: { trace.lines.append("undo a") }) { trace.lines.append("a") },
            PlanStep("b", detail: "would b") { trace.lines.append("b") },
            PlanStep("c", detail: "would c", undo: { trace.lines.append("undo c") }) { trace.lines.append("c") },
            PlanStep("d", detail: "would d", undo: { trace.lines.append("undo d") }) { throw Failed() },
            PlanStep("e", detail: "would e") { trace.lines.append("e") },
        ])
        #expect(plan.names == ["a", "b", "c", "d", "e"])
        await #expect(throws: Failed.self) { try await plan.execute(logger: Logger(label: "test")) }
        #expect(trace.lines == ["a", "b", "c", "undo c", "undo a"])
    }

    @Test("repmgr's optional-value options: --force-rewind=PATH becomes the flag and its hidden value option")
    func optionalValues() {
        #expect(ArgumentNormalizer.normalize(["node", "rejoin", "--force-rewind=/opt/pg_rewind", "--config-archive-dir", "/x"])
            == ["node", "rejoin", "--force-rewind", "--force-rewind-path=/opt/pg_rewind", "--config-archive-dir", "/x"])
        #expect(ArgumentNormalizer.normalize(["--wait-sync=5", "standby", "register"]) == ["standby", "register", "--wait-sync", "--wait-sync-timeout=5"])
        #expect(ArgumentNormalizer.normalize(["standby", "clone", "--copy-external-config-files"]) == ["standby", "clone", "--copy-external-config-files"])
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres

/// The steps of `node rejoin`, in the order they run.
public enum RejoinStep: String, Sendable, Equatable, CaseIterable {
    /// CHECKPOINT on the primary, so that pg_rewind reads its current timeline.
    case checkpointPrimary = "checkpoint on the primary"
    /// Crash recovery of an unclean node in single-user mode, keeping the WAL pg_rewind reads afterwards.
    case crashRecovery = "crash recovery"
    /// Copy the `--config-files` into the archive directory.
    case saveConfigFiles = "save configuration files"
    /// Run pg_rewind against the primary.
    case rewind = "pg_rewind"
    /// Put the saved configuration files back.
    case restoreConfigFiles = "restore configuration files"
    /// `standby.signal`, `primary_conninfo`, `primary_slot_name`.
    case writeStandbyConfiguration = "write standby configuration"
    /// This node's slot on the primary.
    case createSlot = "create replication slot"
    /// Start the server.
    case start = "start server"
    /// Wait up to `node_rejoin_timeout` for streaming.
    case waitForStreaming = "wait for streaming"
    /// This node's record (active standby of the primary) and the event `node_rejoin`.
    case record = "record standby"

    /// The steps the checks' findings call for: pg_rewind only when the node diverged (with the config
    /// files kept around it when any were given), the slot only when it is missing, the wait unless `--no-wait`.
    /// An unclean node gets its crash recovery first: pg_rewind's own would end with a checkpoint that may
    /// remove the WAL segment holding the last common checkpoint, which pg_rewind then cannot find.
    public static func plan(rewind: Bool, unclean: Bool = false, keepFiles: Bool, createSlot: Bool, wait: Bool) -> [RejoinStep] {
        var steps: [RejoinStep] = []
        if rewind {
            if unclean { steps.append(.crashRecovery) }
            steps.append(.checkpointPrimary)
            if keepFiles { steps.append(.saveConfigFiles) }
            steps.append(.rewind)
            if keepFiles { steps.append(.restoreConfigFiles) }
        }
        steps.append(.writeStandbyConfiguration)
        if createSlot { steps.append(.createSlot) }
        steps.append(.start)
        if wait { steps.append(.waitForStreaming) }
        steps.append(.record)
        return steps
    }
}

extension NodeRejoin {
    /// The plan for `facts`: each `RejoinStep` with its dry-run line, its action and, for the saved
    /// configuration files, its undo (put them back when pg_rewind fails).
    func makePlan(_ facts: Facts) throws -> OperationPlan {
        let config = context.config
        let createSlot = config.useReplicationSlots && !facts.slotExists
        let kinds = RejoinStep.plan(rewind: facts.needsRewind, unclean: !facts.control.state.isCleanShutdown, keepFiles: !facts.keeper.files.isEmpty, createSlot: createSlot,
                                    wait: !options.noWait)
        let startCommand = try LocalService(context: context).commandLine("start")
        let steps = kinds.map { kind in step(kind, facts: facts, startCommand: startCommand) }
        return OperationPlan(ready: "prerequisites for executing NODE REJOIN are met", steps: steps)
    }

    /// One step of the plan.
    private func step(_ kind: RejoinStep, facts: Facts, startCommand: String) -> PlanStep {
        let config = context.config
        let primaryLabel = facts.primaryRecord.nodeLabel
        let slotName = NodeRecord.slotName(for: config.nodeID)
        let keeper = facts.keeper
        switch kind {
        case .crashRecovery:
            let command = (try? crashRecoveryCommand(facts)) ?? []
            return PlanStep(kind.rawValue, detail: "would complete crash recovery first with: \(command.map { StandbyClone.displayQuoted($0) }.joined(separator: " ")) < /dev/null") {
                try await recoverFromCrash(try crashRecoveryCommand(facts))
            }
        case .checkpointPrimary:
            return PlanStep(kind.rawValue, detail: "would request a checkpoint on \(primaryLabel) before pg_rewind") {
                // pg_rewind reads the source's timeline from its control file, which a just-promoted primary
                // updates only at its first checkpoint: without one, pg_rewind can find "no rewind required".
                context.logger.info("requesting a checkpoint on \(primaryLabel) before pg_rewind")
                _ = try? facts.primary.query("CHECKPOINT")
            }
        case .saveConfigFiles:
            return PlanStep(kind.rawValue, detail: "would keep \(keeper.files.map(keeper.path).joined(separator: ", ")) across pg_rewind (copies in \"\(keeper.archiveDirectory)\")",
                            undo: { try? keeper.restore() }) { try keeper.save() }
        case .rewind:
            return PlanStep(kind.rawValue, detail: "would execute: \(facts.rewindCommand.map { StandbyClone.displayQuoted($0) }.joined(separator: " "))") {
                try await rewind(facts.rewindCommand, password: CommandLinePassword.environment(for: facts.primaryRecord.conninfo))
            }
        case .restoreConfigFiles:
            return PlanStep(kind.rawValue, detail: "would put the kept files back after pg_rewind") { try keeper.restore() }
        case .writeStandbyConfiguration:
            let conninfo = StandbyClone.primaryConninfo(upstream: facts.primaryRecord.conninfo, config: config, replicationUser: context.replicationUser)
            return PlanStep(kind.rawValue, detail: "would write standby.signal and primary_conninfo = '\(Conninfo.masked(conninfo))'") {
                try writeStandbyConfiguration(conninfo)
            }
        case .createSlot:
            return PlanStep(kind.rawValue, detail: "would create replication slot \"\(slotName)\" on \(primaryLabel)") {
                do {
                    try facts.primary.query("SELECT pg_catalog.pg_create_physical_replication_slot($1)", [slotName])
                } catch {
                    throw KeelError(.rejoinFailed, "unable to create replication slot \"\(slotName)\" on \(primaryLabel)", detail: "\(error)")
                }
                context.logger.info("replication slot \"\(slotName)\" created on \(primaryLabel)")
            }
        case .start:
            return PlanStep(kind.rawValue, detail: "would start the server with: \(startCommand)") {
                try await LocalService(context: context).run("start", failure: .noRestart)
            }
        case .waitForStreaming:
            let timeout = config.int("node_rejoin_timeout")
            return PlanStep(kind.rawValue, detail: "would wait up to \(timeout) seconds (node_rejoin_timeout) for \(config.nodeLabel) to stream from \(primaryLabel)") {
                try await waitForStreaming(facts, timeout: timeout)
            }
        case .record:
            return PlanStep(kind.rawValue, detail: "would record \(config.nodeLabel) as a standby of \(primaryLabel)") {
                try await record(facts)
            }
        }
    }

    /// `postgres --single` on the data directory (with `config_file` when it lives outside), keeping every
    /// WAL segment now in pg_wal (`wal_keep_size`) so that the end-of-recovery checkpoint removes none.
    func crashRecoveryCommand(_ facts: Facts) throws -> [String] {
        let config = context.config
        let postgres = try PostgresBinaries(bindir: config.pgBindir, majorVersion: facts.primaryInfo.versionNumber / 10000).path("postgres")
        let segments = (try? FileManager.default.contentsOfDirectory(atPath: config.dataDirectory + "/pg_wal"))?
            .filter { $0.count == 24 && $0.allSatisfy(\.isHexDigit) }.count ?? 0
        let segmentBytes = facts.control.fields["Bytes per WAL segment"].flatMap { Int($0) } ?? 16 * 1024 * 1024
        let keepMB = (segments + 2) * segmentBytes / (1024 * 1024)
        var command = [postgres, "--single", "-F", "-D", config.dataDirectory, "-c", "wal_keep_size=\(keepMB)MB", "-c", "archive_mode=off"]
        if let file = Self.externalConfigFile(config) { command += ["-c", "config_file=\(file)"] }
        return command + ["template1"]
    }

    /// Runs the single-user crash recovery. Throws 24 with its output.
    private func recoverFromCrash(_ command: [String]) async throws {
        for signal in ["standby.signal", "recovery.signal"] {
            try? FileManager.default.removeItem(atPath: context.config.dataDirectory + "/" + signal)
        }
        if let pid = DataDirectory(context.config.dataDirectory).removeStaleLockFile() {
            context.logger.info("removed the stale postmaster.pid of the crashed server (PID \(pid) is not a running postmaster)")
        }
        context.logger.notice("completing crash recovery of \(context.config.nodeLabel) before pg_rewind")
        let result = try await ProcessRunner.shell(command.map(Placeholders.shellQuote).joined(separator: " ") + " < /dev/null",
                                                   environment: ["LC_ALL": "C"], timeout: 3600)
        guard result.succeeded else {
            throw KeelError(.rejoinFailed, "crash recovery of \(context.config.nodeLabel) failed (exit status \(result.status))",
                            detail: (result.stderr + result.stdout).trimmingWhitespace())
        }
    }

    /// Runs pg_rewind (after removing signal files its single-user crash recovery would refuse). Throws 24.
    private func rewind(_ command: [String], password: [String: String]) async throws {
        for signal in ["standby.signal", "recovery.signal"] {
            try? FileManager.default.removeItem(atPath: context.config.dataDirectory + "/" + signal)
        }
        context.logger.notice("executing pg_rewind")
        context.logger.debug("executing: \(command.map { StandbyClone.displayQuoted($0) }.joined(separator: " "))")
        let result = try await ProcessRunner.run(command[0], Array(command.dropFirst()),
                                                 environment: password.merging(["LC_ALL": "C"]) { $1 }, timeout: 3600)
        guard result.succeeded else {
            throw KeelError(.rejoinFailed, "pg_rewind failed (exit status \(result.status))",
                            detail: (result.stderr + result.stdout).trimmingWhitespace(),
                            hint: "the data directory may be unusable now; clone the node again with \"keel standby clone --force\"")
        }
        context.logger.notice("pg_rewind complete")
    }

    /// `standby.signal`, `primary_conninfo` and (with slots) `primary_slot_name`. Throws 24.
    private func writeStandbyConfiguration(_ primaryConninfo: String) throws {
        let config = context.config
        var settings: [(name: String, value: String)] = [("primary_conninfo", primaryConninfo)]
        if config.useReplicationSlots { settings.append(("primary_slot_name", NodeRecord.slotName(for: config.nodeID))) }
        settings += LogicalSlots.standbySettings(config: config, logger: context.logger)
        do {
            try DataDirectory(config.dataDirectory).writeStandbyConfiguration(settings)
        } catch {
            throw KeelError(.rejoinFailed, "unable to write the standby configuration in \"\(config.dataDirectory)\"", detail: "\(error)")
        }
    }

    /// Waits for this node to stream from the primary; on timeout records a failed `node_rejoin` and throws 24.
    private func waitForStreaming(_ facts: Facts, timeout: Int) async throws {
        let me = context.config.nodeLabel
        let primaryLabel = facts.primaryRecord.nodeLabel
        context.logger.notice("waiting up to \(timeout) seconds (parameter \"node_rejoin_timeout\") for \(me) to stream from \(primaryLabel)")
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(timeout))
        while true {
            if let row = try? facts.primary.queryRow("SELECT count(*)::int AS n FROM pg_catalog.pg_stat_replication WHERE application_name = $1 AND state = 'streaming'",
                                                    [context.config.nodeName]), row.int("n") ?? 0 > 0 {
                return
            }
            if clock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let details = "\(me) did not start streaming from \(primaryLabel) within \(timeout) seconds (node_rejoin_timeout)"
        await EventWriter(context: context).record(.nodeRejoin, successful: false, details: details, on: facts.primary, primary: facts.primaryRecord)
        throw KeelError(.rejoinFailed, "NODE REJOIN failed", detail: details, hint: "check the PostgreSQL log of this node")
    }

    /// Marks this node an active standby of the primary and records the event `node_rejoin`.
    private func record(_ facts: Facts) async throws {
        let config = context.config
        if options.noWait { context.logger.notice("not waiting for \(config.nodeLabel) to stream from \(facts.primaryRecord.nodeLabel) (--no-wait)") }
        let recorded = try context.query {
            try MetadataStore(connection: facts.primary).markFollowing(nodeID: config.nodeID, upstreamNodeID: facts.primaryRecord.nodeID)
        }
        if !recorded { context.logger.warning("\(config.nodeLabel) has no record on the primary; register it with \"keel standby register\"") }
        let details = "\(config.nodeLabel) is now attached to \(facts.primaryRecord.nodeLabel)\(facts.needsRewind ? " (rewound with pg_rewind)" : "")"
        await EventWriter(context: context).record(.nodeRejoin, details: details, on: facts.primary, primary: facts.primaryRecord)
        context.logger.notice("NODE REJOIN successful", metadata: ["detail": "\(details)"])
    }
}

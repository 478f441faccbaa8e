#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres

/// The steps of `standby clone`, in the order they run.
public enum CloneStep: String, Sendable, Equatable, CaseIterable {
    /// This node's slot on the upstream (undone when a later step fails).
    case createSlot = "create replication slot"
    /// `-F/--force`: remove the contents of the occupied data and tablespace directories.
    case clearDirectories = "clear target directories"
    /// pg_basebackup -X stream.
    case baseBackup = "pg_basebackup"
    /// `--verify-backup`: pg_verifybackup.
    case verifyBackup = "pg_verifybackup"
    /// `--copy-external-config-files`.
    case copyConfigFiles = "copy external configuration files"
    /// `standby.signal`, `primary_conninfo`, `primary_slot_name` and the recovery settings.
    case writeStandbyConfiguration = "write standby configuration"
    /// The event `standby_clone`.
    case record = "record event"

    /// The steps the checks' findings and the options call for. `--replication-conf-only` writes the
    /// configuration into the existing copy and copies nothing.
    public static func plan(replicationConfOnly: Bool, createSlot: Bool, clear: Bool, verify: Bool, copyConfigFiles: Bool) -> [CloneStep] {
        var steps: [CloneStep] = createSlot ? [.createSlot] : []
        if !replicationConfOnly {
            if clear { steps.append(.clearDirectories) }
            steps.append(.baseBackup)
            if verify { steps.append(.verifyBackup) }
        }
        if copyConfigFiles { steps.append(.copyConfigFiles) }
        steps += [.writeStandbyConfiguration, .record]
        return steps
    }
}

extension StandbyClone {
    /// The plan for `facts`, each `CloneStep` with its dry-run line, its action and, for the slot, its undo.
    func makePlan(_ facts: Facts) throws -> OperationPlan {
        let config = context.config
        if config.useReplicationSlots, facts.slotExisted {
            context.logger.info("the existing replication slot \"\(NodeRecord.slotName(for: config.nodeID))\" on the upstream node will be used")
        }
        let kinds = CloneStep.plan(replicationConfOnly: options.replicationConfOnly, createSlot: config.useReplicationSlots && !facts.slotExisted,
                                   clear: !facts.toClear.isEmpty, verify: options.verifyBackup, copyConfigFiles: !facts.externalFiles.isEmpty)
        let steps = try kinds.map { kind in try step(kind, facts: facts) }
        return OperationPlan(ready: "all prerequisites for \"standby clone\" are met", steps: steps)
    }

    /// One step of the plan.
    private func step(_ kind: CloneStep, facts: Facts) throws -> PlanStep {
        let config = context.config
        let slotName = NodeRecord.slotName(for: config.nodeID)
        switch kind {
        case .createSlot:
            return PlanStep(kind.rawValue, detail: "would create replication slot \"\(slotName)\" on the upstream node",
                            undo: { _ = try? facts.upstreamConnection.query("SELECT pg_catalog.pg_drop_replication_slot($1)", [slotName]) }) {
                _ = try context.query { try facts.upstreamConnection.query("SELECT pg_catalog.pg_create_physical_replication_slot($1)", [slotName]) }
                context.logger.info("replication slot \"\(slotName)\" created on upstream node \"\(facts.upstream.nodeName)\"")
            }
        case .clearDirectories:
            let list = facts.toClear.map { "\"\($0)\"" }.joined(separator: ", ")
            return PlanStep(kind.rawValue, detail: "would remove the contents of \(list) (-F/--force)") { try clear(facts.toClear) }
        case .baseBackup:
            let command = [try facts.binaries.path("pg_basebackup")] + basebackupArguments(sourceConninfo: facts.sourceConninfo, slot: nil)
            return PlanStep(kind.rawValue, detail: "would execute:\n  \(command.map(Self.displayQuoted).joined(separator: " "))") {
                try await baseBackup(command, password: CommandLinePassword.environment(for: facts.sourceConninfo))
            }
        case .verifyBackup:
            let command = [try facts.binaries.path("pg_verifybackup"), config.dataDirectory]
            return PlanStep(kind.rawValue, detail: "would verify the copy with: \(command.map(Self.displayQuoted).joined(separator: " "))") {
                try await verifyBackup(command)
            }
        case .copyConfigFiles:
            let targets = facts.externalFiles.map { externalTarget($0) }
            return PlanStep(kind.rawValue, detail: "would copy \(zip(facts.externalFiles, targets).map { "\($0.sourcePath) to \($1)" }.joined(separator: ", "))") {
                try copyConfigFiles(facts.externalFiles)
            }
        case .writeStandbyConfiguration:
            let conninfo = Self.primaryConninfo(upstream: options.upstreamConninfo ?? facts.upstream.conninfo, config: config, replicationUser: replicationUser)
            return PlanStep(kind.rawValue, detail: "would write standby.signal and primary_conninfo = '\(Conninfo.masked(conninfo))'") {
                try writeStandbyConfiguration(conninfo)
            }
        case .record:
            return PlanStep(kind.rawValue, detail: "would record the event standby_clone") { await record(facts) }
        }
    }

    /// Removes the contents of `directories` (after every check has passed) and makes the data directory
    /// mode 0700 (PostgreSQL refuses one readable by others; pg_basebackup keeps an existing one's mode). Throws 14.
    private func clear(_ directories: [String]) throws {
        for directory in directories {
            do {
                context.logger.notice("removing the contents of \"\(directory)\" (-F/--force)")
                try DataDirectory(directory).removeContents()
            } catch {
                throw KeelError(.badBaseBackup, "unable to prepare directory \"\(directory)\"", detail: "\(error)")
            }
        }
    }

    /// Runs pg_basebackup, the source's password (if any) in `password` (`PGPASSWORD`). Throws 14 with its output.
    private func baseBackup(_ command: [String], password: [String: String]) async throws {
        let config = context.config
        if DataDirectory(config.dataDirectory).exists {
            do {
                try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: config.dataDirectory)
            } catch {
                throw KeelError(.badBaseBackup, "unable to prepare data directory \"\(config.dataDirectory)\"", detail: "\(error)")
            }
        }
        context.logger.notice("starting backup (using pg_basebackup)...")
        if !options.fastCheckpoint { context.logger.info("this may take some time: use -c/--fast-checkpoint to force an immediate checkpoint") }
        context.logger.debug("executing: \(command.joined(separator: " "))")
        let result = try await ProcessRunner.run(command[0], Array(command.dropFirst()),
                                                environment: password.merging(["PGAPPNAME": "keel_clone"]) { $1 })
        guard result.succeeded else {
            throw KeelError(.badBaseBackup, "unable to take a base backup of the source node",
                            detail: result.stderr.trimmingWhitespace())
        }
    }

    /// Runs pg_verifybackup on the copy. Throws 14 with its output.
    private func verifyBackup(_ command: [String]) async throws {
        let result = try await ProcessRunner.run(command[0], Array(command.dropFirst()), timeout: 3600)
        guard result.succeeded else {
            throw KeelError(.badBaseBackup, "pg_verifybackup found problems in the copy",
                            detail: (result.stderr + result.stdout).trimmingWhitespace())
        }
        context.logger.info("backup verified with pg_verifybackup")
    }

    /// Where an external configuration file goes: the same path (`samepath`) or the data directory (`pgdata`).
    func externalTarget(_ file: ExternalFile) -> String {
        guard options.copyExternalConfigFiles == .pgdata else { return file.sourcePath }
        return PathString.join(context.config.dataDirectory, PathString.lastComponent(file.sourcePath))
    }

    /// Writes the external configuration files read during the checks. Throws 1 naming the file.
    private func copyConfigFiles(_ files: [ExternalFile]) throws {
        for file in files {
            let target = externalTarget(file)
            do {
                try FileManager.default.createDirectory(atPath: PathString.deletingLastComponent(target), withIntermediateDirectories: true)
                try file.contents.write(toFile: target, atomically: true, encoding: .utf8)
            } catch {
                throw KeelError(.badConfig, "unable to write \(file.setting) to \"\(target)\"", detail: "\(error)")
            }
            context.logger.info("copied \(file.setting) \"\(file.sourcePath)\" to \"\(target)\"")
        }
    }

    /// The standby configuration: `primary_conninfo`, `primary_slot_name`, and the recovery settings
    /// (`--recovery-min-apply-delay` overriding the configuration's).
    private func writeStandbyConfiguration(_ primaryConninfo: String) throws {
        let config = context.config
        var settings: [(name: String, value: String)] = [("primary_conninfo", primaryConninfo)]
        if config.useReplicationSlots { settings.append(("primary_slot_name", NodeRecord.slotName(for: config.nodeID))) }
        settings += LogicalSlots.standbySettings(config: config, logger: context.logger)
        for key in ["restore_command", "archive_cleanup_command", "recovery_min_apply_delay"] {
            let value = key == "recovery_min_apply_delay" ? options.recoveryMinApplyDelay ?? config.string(key) : config.string(key)
            if !value.isEmpty { settings.append((key, value)) }
        }
        try DataDirectory(config.dataDirectory).writeStandbyConfiguration(settings)
    }

    /// The event `standby_clone` on the primary and the operator's next steps; never fails.
    private func record(_ facts: Facts) async {
        let config = context.config
        let how = options.replicationConfOnly ? "replication configuration written" : "standby clone (using pg_basebackup) complete"
        context.logger.notice("\(how)")
        // The copy is complete: a primary that cannot be reached now costs the event, not the clone (nor its slot).
        let primary: Connection?
        do {
            primary = try context.connectPrimary(via: facts.source).0
        } catch {
            context.logger.warning("unable to connect to the primary to record the event standby_clone: \((error as? KeelError)?.message ?? "\(error)")")
            primary = nil
        }
        let host = context.remote.host ?? Conninfo.value("host", in: facts.sourceConninfo) ?? ""
        let port = context.remote.port ?? Conninfo.value("port", in: facts.sourceConninfo) ?? "5432"
        let method = options.replicationConfOnly ? "replication configuration only" : "pg_basebackup"
        await EventWriter(context: context).record(.standbyClone, details: "cloned from host \"\(host)\", port \(port); backup method: \(method); --force: \(context.force ? "Y" : "N")", on: primary)
        let pgCtl = (try? facts.binaries.path("pg_ctl")) ?? "pg_ctl"
        let action = options.replicationConfOnly && DataDirectory(config.dataDirectory).runningPostmasterPID != nil ? "restart" : "start"
        context.logger.notice("you can now \(action) your PostgreSQL server",
                              metadata: ["hint": "for example: \(pgCtl) -D \(config.dataDirectory) \(action)\nafter starting the server, register this standby with \"keel standby register\""])
    }
}

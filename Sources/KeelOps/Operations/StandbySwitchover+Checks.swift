#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres

/// What the pre-checks found and the switchover acts on.
struct SwitchoverPlan {
    /// This node's record (from the primary's metadata).
    var localRecord: NodeRecord
    /// A connection to the current primary and its record.
    var primary: Connection
    var primaryRecord: NodeRecord
    /// `node "name" (ID: n)` of the primary.
    var primaryLabel: String
    /// `keel` on the primary's host.
    var primaryRemote: RemoteCommand
    /// Every registered node (the primary's metadata).
    var nodes: [NodeRecord]
    /// The other standbys and the witness attached to the primary.
    var siblings: [NodeRecord]
    /// Siblings on which keel could not be run (only looked at with `--siblings-follow`).
    var unreachableSiblings: [NodeRecord]
}

extension StandbySwitchover {
    /// The pre-checks of the switchover; nothing is changed. Throws `KeelError` 18 (a refusal, with every
    /// reason), 12 (ssh to the primary), 6 (this node unreachable).
    func precheck() async throws -> SwitchoverPlan {
        let config = context.config
        let log = context.logger
        let me = config.nodeLabel
        let local = try context.connectLocal()
        let info = try context.query { try ServerInfo.read(local) }
        guard info.isInRecovery else {
            throw KeelError(.switchoverFailed, "this node is not a standby",
                            detail: "\(me) is not in recovery", hint: "run STANDBY SWITCHOVER on the standby that is to become the primary")
        }
        guard try context.query({ try Migrator(connection: local).schemaExists() }) else {
            throw KeelError(.switchoverFailed, "no metadata found on this node", hint: "register this standby with \"keel standby register\"")
        }
        let primary: Connection
        let found: NodeRecord?
        do {
            (primary, found) = try context.connectPrimary(via: local)
        } catch let error as KeelError {
            throw KeelError(.switchoverFailed, "unable to connect to the current primary",
                            detail: [error.message, error.detail].compactMap { $0 }.joined(separator: "\n"),
                            hint: "STANDBY SWITCHOVER needs a running primary; when it has failed, use \"keel standby promote\"")
        }
        let nodes = try context.query { try MetadataStore(connection: primary).nodes() }
        guard let primaryRecord = found, let localRecord = nodes.first(where: { $0.nodeID == config.nodeID }), localRecord.type == .standby else {
            throw KeelError(.switchoverFailed, found == nil ? "no active primary is registered" : "\(me) is not registered as a standby",
                            hint: "register this standby with \"keel standby register\"")
        }
        let primaryLabel = primaryRecord.nodeLabel
        let primaryInfo = try context.query { try ServerInfo.read(primary) }
        guard primaryInfo.systemIdentifier == info.systemIdentifier else {
            throw KeelError(.switchoverFailed, "this node is not part of the primary's replication cluster",
                            detail: "system identifiers differ: \(info.systemIdentifier) here, \(primaryInfo.systemIdentifier) on \(primaryLabel)")
        }
        log.info("current primary is \(primaryLabel)")

        // keel must run on the primary's host (ssh, or a local child process).
        let primaryRemote = RemoteCommand(node: primaryRecord, config: config, remoteUser: options.remoteUser)
        let stateArgs = ["node", "status", "--is-shutdown-cleanly"]
        log.info("checking that keel runs for \(primaryLabel): \(primaryRemote.display(stateArgs))")
        let answer = try await primaryRemote.run(stateArgs, timeout: 60)
        guard ShutdownState(parsing: answer.stdout) == .up else {
            throw KeelError(.switchoverFailed, "unable to run keel for \(primaryLabel), or it does not report its server as running",
                            detail: "\(primaryRemote.display(stateArgs)) exited with status \(answer.status): \((answer.stdout + answer.stderr).trimmingWhitespace())",
                            hint: "check config_file in repmgr.nodes and that keel is installed there (repmgr_bindir)")
        }

        let siblings = SiblingsFollow.siblings(of: primaryRecord.nodeID, excluding: config.nodeID, in: nodes)
        var unreachable: [NodeRecord] = []
        if options.siblingsFollow {
            for sibling in siblings {
                let remote = RemoteCommand(node: sibling, config: config, remoteUser: options.remoteUser)
                let result = try? await remote.run(stateArgs, timeout: 60)
                if result.flatMap({ ShutdownState(parsing: $0.stdout) }) != .up { unreachable.append(sibling) }
            }
        }
        // logical_slot_failover: the primary's failover logical slots should already be synced here.
        let slotFinding = config.logicalSlotFailover
            ? LogicalSlotFailover.switchoverFinding(primarySlots: LogicalSlots.failoverSlots(primary), candidateSlots: LogicalSlots.failoverSlots(local),
                                                    alwaysPromote: options.alwaysPromote)
            : nil
        let facts = try evaluateReadiness(info: info, local: local, primaryRecord: primaryRecord, siblings: siblings, unreachable: unreachable,
                                          extra: slotFinding.map { [$0] } ?? [])
        log.info("replication lag \(info.replayLagSeconds ?? 0) seconds, \(facts.freeWalSenders) free walsenders on this node")
        return SwitchoverPlan(localRecord: localRecord, primary: primary, primaryRecord: primaryRecord, primaryLabel: primaryLabel,
                              primaryRemote: primaryRemote, nodes: nodes, siblings: siblings, unreachableSiblings: unreachable)
    }

    /// `SwitchoverPrecheck`'s decisions on this standby's streaming, lag, replay and capacity for the old
    /// primary (and the siblings with `--siblings-follow`): warnings are logged, refusals thrown (18).
    private func evaluateReadiness(info: ServerInfo, local: Connection, primaryRecord: NodeRecord,
                                   siblings: [NodeRecord], unreachable: [NodeRecord], extra: [SwitchoverFinding]) throws -> SwitchoverFacts {
        let config = context.config
        let log = context.logger
        let sender = info.walReceiverSender
        let streaming = info.walReceiverStatus == "streaming"
            && sender.map { Conninfo.names(primaryRecord.conninfo, host: $0.host, port: $0.port) } == true
        let paused = try context.query { try local.queryRow("SELECT pg_catalog.pg_is_wal_replay_paused() AS p")?.bool("p") } ?? false
        let attaching = 1 + (options.siblingsFollow ? siblings.filter { $0.type == .standby }.count - unreachable.filter { $0.type == .standby }.count : 0)
        let facts = SwitchoverFacts(
            streamingFromPrimary: streaming, lagSeconds: info.replayLagSeconds,
            lagWarning: config.replicationLagWarning, lagCritical: config.replicationLagCritical, replayPaused: paused,
            freeWalSenders: info.maxWalSenders - info.walSendersInUse, neededWalSenders: attaching,
            useSlots: config.useReplicationSlots, freeSlots: info.maxReplicationSlots - info.replicationSlotsInUse, neededSlots: attaching,
            unreachableSiblings: unreachable.map { "node \"\($0.nodeName)\" (ID: \($0.nodeID))" }, force: context.force)
        let findings = SwitchoverPrecheck.evaluate(facts) + extra
        for warning in findings where warning.severity == .warning { log.warning("\(warning.message)") }
        let refusals = findings.filter { $0.severity == .refusal }
        if let first = refusals.first {
            throw KeelError(.switchoverFailed, "STANDBY SWITCHOVER refused: \(first.message)",
                            detail: refusals.count > 1 ? refusals.map(\.message).joined(separator: "\n") : nil,
                            hint: refusals.compactMap(\.hint).joined(separator: "\n").nilIfEmpty)
        }
        return facts
    }
}

extension String {
    /// `nil` for the empty string.
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelLua
import KeelPostgres

/// Runs a playbook's `keel.promote|follow|switchover|rejoin|service` as the CLI does: the same operation
/// structs (`StandbyPromote`, `StandbyFollow`, `StandbySwitchover`, `NodeRejoin`, `NodeService`), for the
/// node the playbook names. When that node's configuration file (`repmgr.nodes.config_file`) is readable
/// here, the operation runs in this process with that configuration; otherwise `keel` runs on that node
/// (`RemoteCommand`: ssh, or a local child) with the equivalent command line. `context.dryRun` is passed on.
struct PlaybookOperations: Sendable {
    /// The playbook's node (its metadata locates the others) and `--dry-run`.
    let context: OpsContext

    /// Runs `operation` and returns its summary (under `--dry-run`: what it would do). Throws
    /// `PlaybookOperationError` with the operation's message and exit status.
    func run(_ operation: PlaybookOperation) throws -> String {
        do {
            let record = try record(operation.node)
            let what = "\(record.nodeName) (ID \(record.nodeID))"
            if let config = try? KeelConfig.load(path: record.configFile), config.nodeID == record.nodeID {
                return try Self.block { try await self.runHere(operation, config: config, what: what) }
            }
            return try Self.block { try await self.runThere(operation, record: record, what: what) }
        } catch let error as PlaybookOperationError {
            throw error
        } catch let error as KeelError {
            throw PlaybookOperationError(([error.message] + [error.detail, error.hint].compactMap { $0 }).joined(separator: "; "),
                                         exitCode: error.status.rawValue)
        } catch {
            throw PlaybookOperationError("\(error)", exitCode: 1)
        }
    }

    /// The registered node `id`, from this node's metadata (else any reachable node's).
    private func record(_ id: Int) throws -> NodeRecord {
        let nodes: [NodeRecord]
        do {
            nodes = try context.query { try MetadataStore(connection: try context.connectLocal()).nodes() }
        }
        guard let record = nodes.first(where: { $0.nodeID == id }) else {
            throw KeelError(.badConfig, "no node with ID \(id) is registered")
        }
        return record
    }

    /// The operation in this process, with the node's own configuration.
    private func runHere(_ operation: PlaybookOperation, config: KeelConfig, what: String) async throws -> String {
        var ops = OpsContext(config: config, logger: context.logger, dryRun: context.dryRun, format: .text,
                             hooks: context.hooks, output: { [logger = context.logger] text in
                                 for line in text.split(separator: "\n") { logger.info("\(line)") }
                             })
        switch operation {
        case .promote(_, let siblingsFollow):
            let result = try await StandbyPromote(context: ops, options: .init(siblingsFollow: siblingsFollow)).run()
            return context.dryRun ? "promote \(what)" : String(cFormat: "promoted \(what) to timeline \(result.timeline) in %.1f s", result.elapsedSeconds)
        case .follow(_, let upstream):
            let result = try await StandbyFollow(context: ops, options: .init(upstreamNodeID: upstream)).run()
            return (context.dryRun ? "make \(what) follow " : "\(what) follows ") + "\(result.upstreamNodeName) (ID \(result.upstreamNodeID))"
        case .switchover(_, let siblingsFollow, let forceRewind, let alwaysPromote):
            let result = try await StandbySwitchover(context: ops, options: .init(siblingsFollow: siblingsFollow, forceRewind: forceRewind,
                                                                                alwaysPromote: alwaysPromote)).run()
            return context.dryRun ? "switch over: \(what) becomes primary, node ID \(result.formerPrimaryID) a standby"
                : String(cFormat: "\(what) is primary, node ID \(result.formerPrimaryID) a standby (%.1f s)", result.elapsedSeconds)
        case .rejoin(let node, let forceRewind, let configFiles):
            ops.remote = RemoteNodeOptions(dbname: try primaryConninfo(excluding: node))
            let result = try await NodeRejoin(context: ops, options: .init(forceRewind: forceRewind, configFiles: configFiles)).run()
            let rewind = result.rewound ? " with pg_rewind" : ""
            return (context.dryRun ? "rejoin \(what) to" : "\(what) rejoined") + " primary ID \(result.primaryNodeID)\(rewind)"
        case .service(_, let name):
            guard let action = NodeService.Action(rawValue: name) else {
                throw KeelError(.badConfig, "unknown service action \"\(name)\"", hint: "use start, stop, restart, reload or promote")
            }
            try await NodeService(context: ops, action: action).run()
            return (context.dryRun ? "\(name) " : "\(name): done on ") + what
        }
    }

    /// The operation run by `keel` on the node itself (its configuration is not readable here).
    private func runThere(_ operation: PlaybookOperation, record: NodeRecord, what: String) async throws -> String {
        var arguments: [String]
        switch operation {
        case .promote(_, let siblingsFollow):
            arguments = ["standby", "promote"] + (siblingsFollow ? ["--siblings-follow"] : [])
        case .follow(_, let upstream):
            arguments = ["standby", "follow"] + (upstream.map { ["--upstream-node-id", String($0)] } ?? [])
        case .switchover(_, let siblingsFollow, let forceRewind, let alwaysPromote):
            arguments = ["standby", "switchover"] + (siblingsFollow ? ["--siblings-follow"] : []) + (forceRewind ? ["--force-rewind"] : [])
                + (alwaysPromote ? ["--always-promote"] : [])
        case .rejoin(let node, let forceRewind, let configFiles):
            arguments = ["node", "rejoin", "-d", try primaryConninfo(excluding: node)] + (forceRewind ? ["--force-rewind"] : [])
                + (configFiles.isEmpty ? [] : ["--config-files", configFiles.joined(separator: ",")])
        case .service(_, let action):
            arguments = ["node", "service", "--action", action]
        }
        if context.dryRun { arguments.append("--dry-run") }
        let remote = RemoteCommand(node: record, config: context.config)
        let result = try await remote.run(arguments, timeout: 3600)
        guard result.succeeded else {
            let last = result.stderr.split(separator: "\n").last { $0.contains("ERROR") } ?? result.stderr.split(separator: "\n").last ?? ""
            throw PlaybookOperationError("\(remote.display(arguments)) failed: \(last)", exitCode: result.status)
        }
        return (context.dryRun ? "run " : "ran ") + remote.display(arguments) + " for \(what)"
    }

    /// The conninfo of the running primary other than `node` (the rejoin target).
    private func primaryConninfo(excluding node: Int) throws -> String {
        let host = PostgresKeelHost(context: context, hooks: context.hooks)
        guard let primary = try host.nodes().first(where: { $0.id != node && $0.type != "witness" && $0.isInRecovery == false }) else {
            throw KeelError(.dbConnection, "no running primary to rejoin node ID \(node) to")
        }
        return primary.conninfo
    }

    /// Runs `body` on the concurrency pool and waits for it on this (the Lua engine's own) thread.
    static func block<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do { box.set(.success(try await body())) } catch { box.set(.failure(error)) }
            done.signal()
        }
        done.wait()
        return try box.get()
    }
}

/// A result handed from a task to a waiting thread.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = Lock()
    private var result: Result<T, any Error>?
    func set(_ value: Result<T, any Error>) { lock.withLock { result = value } }
    func get() throws -> T { try lock.withLock { result! }.get() }
}

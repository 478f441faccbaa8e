#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelLua

/// The playbook's `keel` module on the real cluster: the hooks' `PostgresKeelHost` for queries, nodes,
/// shell and events; `PlaybookOperations` for the operations (after confirmation unless `--yes`); the
/// `PlaybookReporter` for step lines; the interrupt flag for Ctrl-C.
struct PostgresPlaybookHost: PlaybookHost, ForwardingKeelHost {
    /// The hooks' host (queries, nodes, shell, events), with the playbook's `--dry-run`.
    let base: PostgresKeelHost
    /// The operations.
    let operations: PlaybookOperations
    /// Step lines and progress.
    let reporter: PlaybookReporter
    /// Ctrl-C.
    let interrupt: PlaybookInterrupt
    /// `--yes`.
    let yes: Bool

    var dryRun: Bool { base.dryRun }
    var interrupted: Bool { interrupt.isRaised }

    func event(_ name: String, successful: Bool, details: String, hook: String) throws {
        try base.event(name, successful: successful, details: details, hook: hook)
    }
    func log(_ level: LuaLogLevel, _ message: String, hook: String) {
        if level == .info, reporter.printsOutput { reporter.output(message) } else { base.log(level, message, hook: hook) }
    }

    func operation(_ operation: PlaybookOperation) throws -> String {
        if !dryRun, !yes {
            do {
                try PlaybookConfirmation.confirm("\(operation.luaName)(\(operation.node))")
            } catch let error as KeelError {
                throw PlaybookOperationError(error.message + (error.hint.map { " (\($0))" } ?? ""), exitCode: error.status.rawValue)
            }
        }
        return try operations.run(operation)
    }

    func stepStarted(index: Int, total: Int, name: String) { reporter.started(index: index, total: total, name: name) }
    func stepFinished(_ report: PlaybookStepReport) { reporter.finished(report) }
    func waiting(for what: String, elapsed: Double, timeout: Double) { reporter.waiting(for: what, elapsed: elapsed, timeout: timeout) }
}

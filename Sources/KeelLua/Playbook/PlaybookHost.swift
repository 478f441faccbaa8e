/// What a playbook (`keel run`) reaches beyond the hooks' `KeelHost`: the cluster operations, the step
/// reporter, the wait progress and the interrupt flag. Keel's implementation lives in KeelOps
/// (`PlaybookRunner`); unit tests use a fake, so the step runner runs without a database.
///
/// # Implementation requirements
/// Called on the Lua engine's thread, synchronously, while the playbook runs: `operation` may block for as
/// long as the operation takes, but must not call back into the engine that runs the playbook.
public protocol PlaybookHost: KeelHost {
    /// Runs `operation` (or, when `dryRun`, runs its checks only) and returns a one-line summary: what was
    /// done, or under `--dry-run` what would be done. Throws `PlaybookOperationError` when it fails.
    func operation(_ operation: PlaybookOperation) throws -> String
    /// Step `index` (1-based) of `total` starts.
    func stepStarted(index: Int, total: Int, name: String)
    /// A step ended (ran, failed, was skipped, or would have run).
    func stepFinished(_ report: PlaybookStepReport)
    /// `keel.wait_for` is still waiting for `what` after `elapsed` of at most `timeout` seconds.
    func waiting(for what: String, elapsed: Double, timeout: Double)
    /// True once the operator asked to stop (Ctrl-C): the playbook stops at the next step boundary, and
    /// `keel.wait_for`/`keel.sleep` end at once.
    var interrupted: Bool { get }
}

/// A cluster operation a playbook asks for: the same operations as `keel standby promote|follow|switchover`,
/// `keel node rejoin` and `keel node service`, run for `node` (its configuration file on record).
public enum PlaybookOperation: Sendable, Equatable {
    /// `keel.promote(node_id, {siblings_follow=})`.
    case promote(node: Int, siblingsFollow: Bool)
    /// `keel.follow(node_id, upstream_id)` (`upstream` nil = the running primary).
    case follow(node: Int, upstream: Int?)
    /// `keel.switchover(node_id, {siblings_follow=, force_rewind=, always_promote=})`.
    case switchover(node: Int, siblingsFollow: Bool, forceRewind: Bool, alwaysPromote: Bool)
    /// `keel.rejoin(node_id, {force_rewind=, config_files=})`.
    case rejoin(node: Int, forceRewind: Bool, configFiles: [String])
    /// `keel.service(node_id, action)`: start, stop, restart, reload or promote.
    case service(node: Int, action: String)

    /// The node the operation runs for.
    public var node: Int {
        switch self {
        case .promote(let n, _), .follow(let n, _), .switchover(let n, _, _, _), .rejoin(let n, _, _), .service(let n, _): n
        }
    }

    /// The Lua function's name (`keel.switchover`), for messages.
    public var luaName: String {
        switch self {
        case .promote: "keel.promote"
        case .follow: "keel.follow"
        case .switchover: "keel.switchover"
        case .rejoin: "keel.rejoin"
        case .service: "keel.service"
        }
    }
}

/// A failed playbook operation: the message the step reports and the exit status the equivalent `keel`
/// command would have ended with (the playbook's exit status when this fails its step).
public struct PlaybookOperationError: Error, Sendable, CustomStringConvertible {
    /// Why it failed.
    public var message: String
    /// The operation's exit status (repmgr's codes: 1, 6, 18, 22 …).
    public var exitCode: Int32

    /// Makes an error.
    public init(_ message: String, exitCode: Int32) {
        self.message = message
        self.exitCode = exitCode
    }

    /// The message.
    public var description: String { message }
}

/// How one playbook step ended.
public enum PlaybookStepStatus: Sendable, Equatable {
    /// It ran and succeeded.
    case ok
    /// It failed (a gate returned false, a Lua error, a failed operation) with this reason.
    case failed(String)
    /// It did not run: an earlier step failed, or the playbook was interrupted before it.
    case skipped
    /// Dry run: it ran its checks; these are the changes it would have made (`would: …`).
    case would(String)
    /// Ctrl-C ended it while it waited (`keel.wait_for`, `keel.sleep`).
    case interrupted

    /// `ok`, `failed`, `skipped`, `would` or `interrupted` (the `--json` `result` field).
    public var name: String {
        switch self {
        case .ok: "ok"
        case .failed: "failed"
        case .skipped: "skipped"
        case .would: "would"
        case .interrupted: "interrupted"
        }
    }

    /// The step line's result: `ok`, `failed: reason`, `skipped`, `would: …`, `interrupted`.
    public var text: String {
        switch self {
        case .ok: "ok"
        case .failed(let reason): "failed: " + reason
        case .skipped: "skipped"
        case .would(let what): "would: " + what
        case .interrupted: "interrupted"
        }
    }
}

/// One step as the runner reports it.
public struct PlaybookStepReport: Sendable, Equatable {
    /// 1-based position.
    public var index: Int
    /// Number of steps the playbook declared.
    public var total: Int
    /// `keel.step`'s name.
    public var name: String
    /// How it ended.
    public var status: PlaybookStepStatus
    /// Wall-clock seconds it ran (0 when skipped).
    public var seconds: Double
    /// A note the step returned (a string, or `true, "note"`), shown after `ok`.
    public var note: String?
    /// The Lua error that failed the step (file, line, traceback), if that is why it failed.
    public var error: LuaError?
    /// The exit status of the operation that failed the step, if one did.
    public var exitCode: Int32?

    /// Makes a report.
    public init(index: Int, total: Int, name: String, status: PlaybookStepStatus, seconds: Double = 0,
                note: String? = nil, error: LuaError? = nil, exitCode: Int32? = nil) {
        self.index = index
        self.total = total
        self.name = name
        self.status = status
        self.seconds = seconds
        self.note = note
        self.error = error
        self.exitCode = exitCode
    }
}

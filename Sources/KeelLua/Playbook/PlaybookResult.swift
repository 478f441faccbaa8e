/// What `LuaEngine.runPlaybook` gave: the steps and how the playbook ended, with its exit status.
///
/// Exit statuses (README "Playbooks"): 0 every step ok (or, in a dry run, would run); 1 the playbook
/// could not start (unreadable file, compile error, error outside any step, unknown or missing argument)
/// or a step failed without an operation to blame; the failing operation's own status when a
/// `keel.promote|follow|switchover|rejoin|service` call failed the step; 130 interrupted (Ctrl-C).
public struct PlaybookResult: Sendable {
    /// How the run ended.
    public enum Outcome: Sendable, Equatable {
        /// Every step succeeded (or would run).
        case succeeded
        /// The playbook did not start: it does not load, or its arguments are wrong (`LuaError` in `error`).
        case invalid
        /// A step failed; the later ones were skipped.
        case failed
        /// Ctrl-C stopped it.
        case interrupted
    }

    /// How it ended.
    public var outcome: Outcome
    /// Every declared step in order (all of them, skipped ones included).
    public var steps: [PlaybookStepReport]
    /// Why the playbook did not start (`invalid`).
    public var error: LuaError?
    /// True when the argument declarations (`keel.params`) refused the arguments.
    public var argumentError: Bool
    /// Wall-clock seconds of the whole run.
    public var seconds: Double

    /// Makes a result.
    public init(outcome: Outcome, steps: [PlaybookStepReport], error: LuaError? = nil, argumentError: Bool = false, seconds: Double = 0) {
        self.outcome = outcome
        self.steps = steps
        self.error = error
        self.argumentError = argumentError
        self.seconds = seconds
    }

    /// The process exit status (see the type's summary).
    public var exitCode: Int32 {
        switch outcome {
        case .succeeded: 0
        case .invalid: 1
        case .interrupted: 130
        case .failed: steps.first { if case .failed = $0.status { true } else { false } }?.exitCode ?? 1
        }
    }
}

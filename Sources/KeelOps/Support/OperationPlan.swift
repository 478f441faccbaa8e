import Logging

/// One named step of an operation: what `--dry-run` prints for it (`detail`), what the run does (`run`,
/// which throws the step's own error) and, where one exists, how to take it back (`undo`) when a later
/// step fails.
public struct PlanStep {
    /// A short name ("create replication slot"), used in debug output and by tests.
    public let name: String
    /// The line `--dry-run` prints for this step ("would create replication slot …").
    public let detail: String
    /// Does the step. Throws the step's own `KeelError`.
    let run: () async throws -> Void
    /// Takes the step back after a later step failed; `nil` when there is nothing to undo.
    let undo: (() async -> Void)?

    /// Makes a step.
    public init(_ name: String, detail: String, undo: (() async -> Void)? = nil, run: @escaping () async throws -> Void) {
        self.name = name
        self.detail = detail
        self.undo = undo
        self.run = run
    }

    /// Whether the step can be taken back.
    public var hasUndo: Bool { undo != nil }
}

/// The plan of an operation: the steps its checks decided on, in order. `--dry-run` prints the plan
/// (`describe`), the run executes the very same list (`execute`), so what a dry run shows cannot drift
/// from what the run does.
public struct OperationPlan {
    /// The line printed first by a dry run ("prerequisites for executing NODE REJOIN are met").
    public let ready: String
    /// The steps, in order.
    public let steps: [PlanStep]

    /// Makes a plan.
    public init(ready: String, steps: [PlanStep]) {
        self.ready = ready
        self.steps = steps
    }

    /// The steps' names, in order.
    public var names: [String] { steps.map(\.name) }

    /// `--dry-run`: logs `ready`, then each step's detail (a multi-line detail stays one message).
    public func describe(to logger: Logger) {
        logger.info("\(ready)")
        for step in steps where !step.detail.isEmpty { logger.info("\(step.detail)") }
    }

    /// Runs the steps in order. When one throws, the undo of every step already done runs, last first, and
    /// the step's error is rethrown unchanged.
    public func execute(logger: Logger) async throws {
        var done: [PlanStep] = []
        for (index, step) in steps.enumerated() {
            logger.debug("step \(index + 1) of \(steps.count): \(step.name)")
            do {
                try await step.run()
            } catch {
                for finished in done.reversed() {
                    guard let undo = finished.undo else { continue }
                    logger.debug("undoing step: \(finished.name)")
                    await undo()
                }
                throw error
            }
            done.append(step)
        }
    }
}

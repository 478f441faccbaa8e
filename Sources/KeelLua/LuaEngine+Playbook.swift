import CLua
import CLuaShim
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension LuaEngine {
    /// Runs the playbook at `path` (`keel run`) with `arguments` (`keel.args`), `host` answering the `keel`
    /// module, its operations and its reporting.
    ///
    /// Two phases: the file is compiled (a syntax error stops here, with file and line) and its main chunk
    /// runs, declaring arguments (`keel.params`) and steps (`keel.step`); then the steps run in order, each
    /// reported through `host` (`stepStarted`, `stepFinished`). A failed step skips the rest; Ctrl-C
    /// (`host.interrupted`) stops at the next step boundary. The playbook has no time budget (a run may take
    /// minutes), unlike hooks (`lua_hook_timeout`); the memory cap applies. Arguments given to a playbook
    /// that declares none are refused. Never throws: a failure is in the result.
    public func runPlaybook(_ path: String, arguments: [String: String], host: any PlaybookHost) -> PlaybookResult {
        let clock = ContinuousClock()
        let started = clock.now
        let playbook = PlaybookState(arguments: arguments)
        func elapsed() -> Double { Self.seconds(clock.now - started) }
        func invalid(_ error: LuaError, arguments: Bool = false) -> PlaybookResult {
            PlaybookResult(outcome: .invalid, steps: [], error: error, argumentError: arguments, seconds: elapsed())
        }
        let vm: ScriptVM
        do { vm = try ScriptVM(limits: currentLimits, cancellation: cancellation) } catch { return invalid(error) }
        let module = vm.module
        module.playbook = playbook
        module.beginCall(host: host, label: path)
        defer {
            for step in playbook.steps { vm.state.unref(step.ref) }
            module.endCall()
            module.playbook = nil
        }
        if let error = declare(path, vm: vm) { return invalid(error, arguments: playbook.argumentError) }
        if !playbook.declared, !arguments.isEmpty {
            return invalid(LuaError(stage: .load, kind: .runtime, file: path,
                                    message: "keel.params: this playbook declares no arguments, but got \(arguments.keys.sorted().joined(separator: ", "))"),
                           arguments: true)
        }
        playbook.running = true
        var reports: [PlaybookStepReport] = []
        var outcome = PlaybookResult.Outcome.succeeded
        let total = playbook.steps.count
        for (offset, step) in playbook.steps.enumerated() {
            let index = offset + 1
            if outcome == .succeeded, host.interrupted { outcome = .interrupted }
            guard outcome == .succeeded else {
                let report = PlaybookStepReport(index: index, total: total, name: step.name, status: .skipped)
                host.stepFinished(report)
                reports.append(report)
                continue
            }
            host.stepStarted(index: index, total: total, name: step.name)
            let report = runStep(step, vm: vm, index: index, total: total, path: path, playbook: playbook, dryRun: host.dryRun)
            host.stepFinished(report)
            reports.append(report)
            switch report.status {
            case .failed: outcome = .failed
            case .interrupted: outcome = .interrupted
            default: break
            }
        }
        return PlaybookResult(outcome: outcome, steps: reports, seconds: elapsed())
    }

    /// Compiles `path` and runs its main chunk in a playbook environment; the error when either fails.
    private func declare(_ path: String, vm: ScriptVM) -> LuaError? {
        let source: [UInt8]
        do { source = try LuaScript.read(path) } catch { return error }
        let state = vm.state
        let module = vm.module
        let stack = state.stack
        let top = stack.top
        defer { stack.setTop(top) }
        if let error = state.compile(source, path: path) { return error }
        state.pushEnvironment(extras: [("keel", module.pushModule), ("print", module.pushPrint)])
        _ = lua_setupvalue(state.L, -2, 1)   // the chunk's _ENV
        return state.protectedCall(arguments: 0, budgetMilliseconds: Self.unlimited, stage: .load, path: path).error
    }

    /// Runs one declared step and says how it ended.
    private func runStep(_ step: (name: String, ref: Int32), vm: ScriptVM, index: Int, total: Int, path: String,
                         playbook: PlaybookState, dryRun: Bool) -> PlaybookStepReport {
        let state = vm.state
        let clock = ContinuousClock()
        let started = clock.now
        playbook.notes = []
        playbook.operationExit = nil
        playbook.interruptedInStep = false
        let stack = state.stack
        let top = stack.top
        state.push(ref: step.ref)
        let (base, error) = state.protectedCall(arguments: 0, budgetMilliseconds: Self.unlimited, stage: .run, path: path)
        let values = error == nil ? stack.values(from: base) : []
        stack.setTop(top)
        var report = PlaybookStepReport(index: index, total: total, name: step.name, status: .ok, seconds: Self.seconds(clock.now - started))
        if let error {
            report.status = playbook.interruptedInStep ? .interrupted : .failed(error.message)
            report.error = error
            report.exitCode = playbook.operationExit
            return report
        }
        let second: LuaValue? = values.count > 1 ? values[1] : nil
        switch (values.first, second) {
        case (.boolean(false)?, let reason):
            report.status = .failed(reason.map { $0.stringValue ?? $0.description } ?? "the step returned false")
            return report
        case (.string(let note)?, _), (.boolean(true)?, .string(let note)?):
            report.note = note
        default:
            break
        }
        if dryRun, !playbook.notes.isEmpty { report.status = .would(playbook.notes.joined(separator: "; ")) }
        return report
    }

    /// The playbook's budget: none to speak of (`Int32.max` ms, about 24 days).
    static var unlimited: Int32 { Int32.max }

    /// A duration in seconds.
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

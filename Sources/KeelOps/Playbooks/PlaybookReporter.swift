#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelLua

/// Prints `keel run`'s step lines and summary on standard output: text (`[2/5] name  1.52 s  ok`, a failed
/// Lua error followed by its file, line and traceback) or, with `--json`, one JSON object per step and a
/// summary object, one per line. Progress of waits goes to standard error.
final class PlaybookReporter: @unchecked Sendable {
    /// `--json`.
    let json: Bool
    /// Where stdout lines go.
    let write: @Sendable (String) -> Void
    private let lock = Lock()
    private var lastProgress = Date.distantPast
    private var nameWidth = 0

    /// A reporter printing through `write`.
    init(json: Bool, write: @escaping @Sendable (String) -> Void) {
        self.json = json
        self.write = write
    }

    /// True when the playbook's `print` and `keel.log.info` lines go to standard output (text mode).
    var printsOutput: Bool { !json }

    /// A line the playbook printed.
    func output(_ line: String) { write(line) }

    /// A step starts (text mode: nothing yet; the line is printed when it ends).
    func started(index: Int, total: Int, name: String) {
        lock.withLock { lastProgress = Date() }
    }

    /// Progress of a `keel.wait_for`, at most every 5 seconds, on standard error.
    func waiting(for what: String, elapsed: Double, timeout: Double) {
        let due = lock.withLock { () -> Bool in
            guard Date().timeIntervalSince(lastProgress) >= 5 else { return false }
            lastProgress = Date()
            return true
        }
        if due {
            writeStandardError("  … waiting for \(what) (\(Int(elapsed)) s of \(Int(timeout)) s)\n")
        }
    }

    /// A step ended.
    func finished(_ report: PlaybookStepReport) {
        if json { write(LuaJSON.encode(Self.json(report))); return }
        let width = lock.withLock { nameWidth = max(nameWidth, min(44, report.name.count)); return nameWidth }
        let number = "[\(report.index)/\(report.total)]"
        let duration = report.status == .skipped ? "" : HookTest.format(report.seconds)
        var line = "\(number) \(report.name.rightPadded(width))  \(duration.leftPadded(9))  \(report.status.text)"
        if let note = report.note, case .ok = report.status { line += " — " + note }
        write(line)
        if case .failed = report.status, let error = report.error {
            let location = (error.file ?? "?") + (error.line.map { ":\($0)" } ?? "")
            write("      lua error in step \"\(report.name)\" at \(location)")
            for traceback in (error.traceback ?? "").split(separator: "\n") { write("      " + traceback) }
        }
    }

    /// The closing line or object.
    func summary(_ result: PlaybookResult, path: String, dryRun: Bool) {
        if json { write(LuaJSON.encode(Self.jsonSummary(result, path: path, dryRun: dryRun))); return }
        let counts = Self.counts(result)
        let time = HookTest.format(result.seconds)
        switch result.outcome {
        case .succeeded:
            write("playbook \(path): \(result.steps.count) step\(result.steps.count == 1 ? "" : "s") \(dryRun ? "checked (dry run)" : "ok") in \(time)")
        case .failed:
            let failed = result.steps.first { $0.status.name == "failed" }
            write("playbook \(path): failed at step \(failed?.index ?? 0) (\(failed?.name ?? "?")) after \(time); \(counts.skipped) skipped; exit status \(result.exitCode)")
        case .interrupted:
            let stop = result.steps.first { $0.status == .skipped || $0.status == .interrupted }
            write("playbook \(path): interrupted at step \(stop?.index ?? result.steps.count) (\(stop?.name ?? "?")) after \(time); \(counts.ok) step\(counts.ok == 1 ? "" : "s") done")
        case .invalid:
            break   // the error is reported on standard error
        }
    }

    private static func counts(_ result: PlaybookResult) -> (ok: Int, failed: Int, skipped: Int, would: Int) {
        var counts = (ok: 0, failed: 0, skipped: 0, would: 0)
        for step in result.steps {
            switch step.status {
            case .ok: counts.ok += 1
            case .failed, .interrupted: counts.failed += 1
            case .skipped: counts.skipped += 1
            case .would: counts.would += 1
            }
        }
        return counts
    }

    static func json(_ report: PlaybookStepReport) -> LuaValue {
        var detail: String?
        switch report.status {
        case .failed(let reason): detail = reason
        case .would(let what): detail = what
        default: detail = nil
        }
        return .fields([
            ("type", .string("step")), ("index", .integer(Int64(report.index))), ("total", .integer(Int64(report.total))),
            ("name", .string(report.name)), ("result", .string(report.status.name)), ("detail", detail.map(LuaValue.string)),
            ("seconds", .number(report.seconds)), ("note", report.note.map(LuaValue.string)),
            ("exit_code", report.exitCode.map { .integer(Int64($0)) }), ("error", report.error.map(errorValue)),
        ])
    }

    static func jsonSummary(_ result: PlaybookResult, path: String, dryRun: Bool) -> LuaValue {
        let counts = counts(result)
        return .fields([
            ("type", .string("summary")), ("playbook", .string(path)), ("outcome", .string("\(result.outcome)")),
            ("exit_code", .integer(Int64(result.exitCode))), ("dry_run", .boolean(dryRun)),
            ("steps", .integer(Int64(result.steps.count))), ("ok", .integer(Int64(counts.ok))), ("failed", .integer(Int64(counts.failed))),
            ("skipped", .integer(Int64(counts.skipped))), ("would", .integer(Int64(counts.would))), ("seconds", .number(result.seconds)),
            ("error", result.error.map(errorValue)),
        ])
    }

    static func errorValue(_ error: LuaError) -> LuaValue {
        .fields([("stage", .string(error.stage.rawValue)), ("kind", .string(error.kind.rawValue)),
                 ("file", error.file.map(LuaValue.string)), ("line", error.line.map { .integer(Int64($0)) }),
                 ("message", .string(error.message)), ("traceback", error.traceback.map(LuaValue.string))])
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
    func rightPadded(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}

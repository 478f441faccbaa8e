#if canImport(Glibc)
import Glibc
#endif
import Subprocess
import SystemPackage

extension ProcessRunner {
    /// Runs `path` with `arguments` (no shell, `environment` added, empty standard input) and hands each
    /// line of its standard output and error to `line` as it is written (`stderr` true for the error
    /// stream; a last line without a newline included). Returns the exit status (status 124, and the
    /// process tree ended, when it outlives `timeout` seconds; the result's stderr then says so). Throws
    /// when the program cannot be started.
    public static func stream(_ path: String, _ arguments: [String], environment: [String: String] = [:], timeout: Double,
                              line: @escaping @Sendable (_ stderr: Bool, _ text: String) -> Void) async throws -> CommandResult {
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: false, allowedDurationToNextStep: .seconds(5))]
        let platformOptions = options
        let env: Environment = .inherit.updating(Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(rawValue: $0.key)!, Optional($0.value)) }))
        let child = ChildProcessTree(ownGroup: false)
        let work: @Sendable () async throws -> CommandResult = {
            let result = try await Subprocess.run(.path(FilePath(path)), arguments: Arguments(arguments), environment: env,
                                                  platformOptions: platformOptions, input: .none,
                                                  output: .sequence, error: .sequence) { execution in
                child.started(execution.processIdentifier.value)
                let out = execution.standardOutput
                let err = execution.standardError
                async let outDone: Void = forEachLine(of: out) { line(false, $0) }
                async let errDone: Void = forEachLine(of: err) { line(true, $0) }
                _ = try await (outDone, errDone)
            }
            let status: Int32 = switch result.terminationStatus {
            case .exited(let code): Int32(code)
            case .signaled(let signal): 128 + Int32(signal)
            }
            return CommandResult(status: status, stdout: "", stderr: "")
        }
        return try await bounded(work, child: child, timeout: timeout)
    }

    /// Calls `body` with each line of `sequence` (without its newline), as the lines complete.
    private static func forEachLine(of sequence: SubprocessOutputSequence, _ body: (String) -> Void) async throws {
        var pending: [UInt8] = []
        for try await buffer in sequence {
            buffer.withUnsafeBytes { pending.append(contentsOf: $0) }
            while let newline = pending.firstIndex(of: 10) {
                body(String(decoding: pending[..<newline], as: UTF8.self))
                pending.removeSubrange(...newline)
            }
        }
        if !pending.isEmpty { body(String(decoding: pending, as: UTF8.self)) }
    }
}

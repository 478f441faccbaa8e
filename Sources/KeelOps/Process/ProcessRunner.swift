import Foundation
import Subprocess
import SystemPackage

/// What a finished child process left: exit status (128 + signal when killed) and its captured output.
public struct CommandResult: Sendable, Equatable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// True when the process exited with status 0.
    public var succeeded: Bool { status == 0 }
}

/// Runs child processes through swift-subprocess. Output is captured up to `outputLimit` bytes; a child
/// that outlives `timeout` (seconds) is sent SIGTERM, then SIGKILL after 5 s, and reported with status 124.
public enum ProcessRunner {
    /// Most output Keel keeps from one child (bytes).
    public static let outputLimit = 4 * 1024 * 1024

    /// Runs `path` with `arguments` (no shell), `environment` added to Keel's own. Throws when the
    /// program cannot be started.
    public static func run(_ path: String, _ arguments: [String], environment: [String: String] = [:],
                           timeout: Double? = nil) async throws -> CommandResult {
        var platformOptions = PlatformOptions()
        platformOptions.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(5))]
        let options = platformOptions
        let env: Environment = .inherit.updating(Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(rawValue: $0.key)!, Optional($0.value)) }))
        let work: @Sendable () async throws -> CommandResult = {
            let result = try await Subprocess.run(.path(FilePath(path)), arguments: Arguments(arguments), environment: env,
                                                  platformOptions: options,
                                                  output: .string(limit: outputLimit), error: .string(limit: outputLimit))
            let status: Int32 = switch result.terminationStatus {
            case .exited(let code): Int32(code)
            case .signaled(let signal): 128 + Int32(signal)
            }
            return CommandResult(status: status, stdout: result.standardOutput ?? "", stderr: result.standardError ?? "")
        }
        guard let timeout else { return try await work() }
        return try await withThrowingTaskGroup(of: CommandResult?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                return nil
            }
            defer { group.cancelAll() }
            for try await result in group {
                if let result { return result }
                group.cancelAll()
                return CommandResult(status: 124, stdout: "", stderr: "timed out after \(timeout) s")
            }
            return CommandResult(status: 124, stdout: "", stderr: "timed out")
        }
    }

    /// Runs `command` with `/bin/sh -c`, as repmgr runs its hook and service commands with `system()`.
    public static func shell(_ command: String, environment: [String: String] = [:], timeout: Double? = nil) async throws -> CommandResult {
        try await run("/bin/sh", ["-c", command], environment: environment, timeout: timeout)
    }
}

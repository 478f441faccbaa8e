#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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

/// Runs child processes through swift-subprocess. Output is captured up to `outputLimit` bytes. A child
/// that outlives `timeout` (seconds) is reported with status 124 after its whole process tree is ended:
/// SIGTERM to its process group (when it has its own) and to every descendant, then SIGKILL after 5 s.
/// A command run through the shell gets its own process group, so a hook's children (`sleep 100; …`,
/// `cmd &`) end with it.
public enum ProcessRunner {
    /// Most output Keel keeps from one child (bytes).
    public static let outputLimit = 4 * 1024 * 1024
    /// Seconds between SIGTERM and SIGKILL for a child that overran its timeout.
    static let killGrace = 5.0

    /// Runs `path` with `arguments` (no shell), `environment` added to Keel's own and `input` on its
    /// standard input (empty when `nil`). With `ownProcessGroup`, the child leads a new process group.
    /// Throws when the program cannot be started.
    public static func run(_ path: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil,
                           timeout: Double? = nil, ownProcessGroup: Bool = false) async throws -> CommandResult {
        var platformOptions = PlatformOptions()
        platformOptions.teardownSequence = [.gracefulShutDown(toProcessGroup: ownProcessGroup, allowedDurationToNextStep: .seconds(5))]
        if ownProcessGroup { platformOptions.processGroupID = 0 }
        let options = platformOptions
        let env: Environment = .inherit.updating(Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(rawValue: $0.key)!, Optional($0.value)) }))
        let child = ChildProcessTree(ownGroup: ownProcessGroup)
        let stdin = input ?? ""
        let work: @Sendable () async throws -> CommandResult = {
            let result = try await Subprocess.run(.path(FilePath(path)), arguments: Arguments(arguments), environment: env,
                                                  platformOptions: options, input: .string(stdin),
                                                  output: .string(limit: outputLimit), error: .string(limit: outputLimit)) { execution in
                child.started(execution.processIdentifier.value)
            }
            let status: Int32 = switch result.terminationStatus {
            case .exited(let code): Int32(code)
            case .signaled(let signal): 128 + Int32(signal)
            }
            return CommandResult(status: status, stdout: result.standardOutput ?? "", stderr: result.standardError ?? "")
        }
        return try await bounded(work, child: child, timeout: timeout)
    }

    /// `work`'s result, or status 124 when it outlives `timeout` seconds: the child's whole tree then gets
    /// SIGTERM, and SIGKILL after the grace period.
    static func bounded(_ work: @escaping @Sendable () async throws -> CommandResult, child: ChildProcessTree,
                        timeout: Double?) async throws -> CommandResult {
        guard let timeout else { return try await work() }
        return try await withThrowingTaskGroup(of: CommandResult?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                return nil
            }
            defer { group.cancelAll() }
            if case .some(.some(let result)) = try await group.next() { return result }
            // Timed out: end the whole tree, give it the grace period, then kill what is left.
            child.signal(SIGTERM)
            group.addTask {
                try await Task.sleep(for: .seconds(killGrace))
                return nil
            }
            if case .some(.some(_)) = try await group.next() {
                return CommandResult(status: 124, stdout: "", stderr: "timed out after \(timeout) s")
            }
            child.signal(SIGKILL)
            return CommandResult(status: 124, stdout: "", stderr: "timed out after \(timeout) s (killed)")
        }
    }

    /// Runs `command` with `/bin/sh -c`, as repmgr runs its hook and service commands with `system()`, in a
    /// process group of its own — except under an interactive `keel` in the terminal's foreground, where the
    /// command stays in keel's group so that a prompt (`sudo`, `ssh`) can read the terminal and Ctrl-C reaches
    /// it (a timeout then ends the descendants found in `/proc`).
    public static func shell(_ command: String, environment: [String: String] = [:], timeout: Double? = nil) async throws -> CommandResult {
        try await run("/bin/sh", ["-c", command], environment: environment, timeout: timeout, ownProcessGroup: !inTerminalForeground)
    }

    /// Whether this process reads a terminal whose foreground process group is its own.
    static var inTerminalForeground: Bool {
        isatty(STDIN_FILENO) != 0 && tcgetpgrp(STDIN_FILENO) == getpgrp()
    }
}

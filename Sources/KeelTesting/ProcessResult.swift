import Foundation

/// The outcome of a command that ran to completion: its exit status and captured output.
public struct ProcessResult: Sendable, CustomStringConvertible {
    /// The exit status (for a process killed by a signal: 128 + the signal number).
    public var status: Int32
    /// Everything the command wrote to standard output, decoded as UTF-8 (invalid bytes replaced).
    public var stdout: String
    /// Everything the command wrote to standard error, decoded as UTF-8 (invalid bytes replaced).
    public var stderr: String
    /// The command as it was launched (after `runuser` wrapping), for messages.
    public var commandLine: String

    /// Creates a result; `commandLine` is only used in messages.
    public init(status: Int32, stdout: String, stderr: String, commandLine: String = "") {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.commandLine = commandLine
    }

    /// Whether the command exited with status 0.
    public var succeeded: Bool { status == 0 }

    /// Standard output followed by standard error.
    public var combinedOutput: String {
        if stderr.isEmpty { return stdout }
        if stdout.isEmpty { return stderr }
        return stdout + (stdout.hasSuffix("\n") ? "" : "\n") + stderr
    }

    /// Returns `self` when the command succeeded, else throws `HarnessError.commandFailed` with its output.
    @discardableResult
    public func requireSuccess() throws -> ProcessResult {
        guard succeeded else {
            throw HarnessError.commandFailed(command: commandLine, status: status, output: combinedOutput)
        }
        return self
    }

    /// A one-line summary plus the output, for test failure messages.
    public var description: String {
        "`\(commandLine)` exited with \(status)\n\(combinedOutput)"
    }
}

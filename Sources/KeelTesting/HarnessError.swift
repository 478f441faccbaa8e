import Foundation

/// Failures of the test harness itself (set-up, commands, processes).
public enum HarnessError: Error, CustomStringConvertible, Sendable {
    /// A command exited with a non-zero status; `output` holds its stdout and stderr.
    case commandFailed(command: String, status: Int32, output: String)
    /// A command did not finish within `seconds` and was killed; `output` holds what it wrote so far.
    case commandTimedOut(command: String, seconds: Double, output: String)
    /// A command could not be launched at all.
    case launchFailed(command: String, reason: String)
    /// The workspace, a server or a file could not be prepared.
    case setupFailed(String)

    /// A readable message including the captured output.
    public var description: String {
        switch self {
        case let .commandFailed(command, status, output):
            return "command failed with status \(status): \(command)\n\(output)"
        case let .commandTimedOut(command, seconds, output):
            return "command timed out after \(seconds) s and was killed: \(command)\n\(output)"
        case let .launchFailed(command, reason):
            return "could not launch \(command): \(reason)"
        case let .setupFailed(message):
            return "test harness set-up failed: \(message)"
        }
    }
}

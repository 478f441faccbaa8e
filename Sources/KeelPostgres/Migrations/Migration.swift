/// One versioned schema change, plain SQL. Every statement is idempotent (`IF NOT EXISTS`, guarded
/// `DO` blocks) so that a schema created by repmgr's extension is adopted as it is.
public struct Migration: Sendable {
    public let version: Int
    public let summary: String
    public let statements: [String]

    /// Every migration in order. Append, never edit a released one.
    public static let all: [Migration] = [.v1RepmgrSchema, .v2DaemonState, .v3SyncQuorum]
}

import KeelCore

/// An error from libpq or the server. `sqlState` is the five-character SQLSTATE when the server sent one
/// (`PG_DIAG_SQLSTATE`), `message` the primary message (`PG_DIAG_MESSAGE_PRIMARY`, or libpq's own text for
/// a connection failure). No field ever holds a password: conninfo strings are masked before use.
public struct PostgresError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Could not connect (or the connection broke): repmgr's ERR_DB_CONN (6).
        case connection
        /// A statement failed: repmgr's ERR_DB_QUERY (7).
        case query
    }

    public var kind: Kind
    public var sqlState: String?
    public var message: String
    public var detail: String?
    public var hint: String?
    /// The masked conninfo of the server, for messages.
    public var target: String

    public init(kind: Kind, sqlState: String? = nil, message: String, detail: String? = nil, hint: String? = nil, target: String) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.target = target
    }

    public var description: String {
        var text = message
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        return text
    }

    /// The operator-facing error: exit 6 for a connection failure, 7 for a failed statement.
    public var keelError: KeelError {
        switch kind {
        case .connection:
            KeelError(.dbConnection, "connection to database failed", detail: "\(message)\nattempted to connect using: \(target)", hint: hint)
        case .query:
            KeelError(.dbQuery, "query failed: \(description)", detail: detail, hint: hint)
        }
    }
}

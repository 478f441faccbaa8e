/// The one error type operations report to the operator, shaped like PostgreSQL's `ereport`:
/// a one-line `message`, an optional `detail` (what was seen) and `hint` (what to do), and the
/// `status` the process exits with (repmgr's numbers, see `ExitStatus`).
///
/// Messages never contain a password: conninfo strings are masked with `Conninfo.masked(_:)`
/// before they are put into an error.
public struct KeelError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: ExitStatus
    public var message: String
    public var detail: String?
    public var hint: String?

    public init(_ status: ExitStatus, _ message: String, detail: String? = nil, hint: String? = nil) {
        self.status = status
        self.message = message
        self.detail = detail
        self.hint = hint
    }

    /// `ERROR: message`, then `DETAIL:` and `HINT:` lines when present.
    public var description: String {
        var lines = ["ERROR: \(message)"]
        if let detail { lines.append("DETAIL: \(detail)") }
        if let hint { lines.append("HINT: \(hint)") }
        return lines.joined(separator: "\n")
    }
}

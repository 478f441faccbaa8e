/// Where a setting was given: the file (absolute path) and the 1-based line of its `name = value`.
public struct ConfigLocation: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Absolute path of the file that holds the line (an included file when the line came from one).
    public var file: String
    /// 1-based line number.
    public var line: Int

    /// A location; `file` should be absolute.
    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    /// `file:line`.
    public var description: String { "\(file):\(line)" }
}

/// One problem found while reading a configuration file: a warning (the file still loads) or an
/// error (loading fails with `ConfigError`).
///
/// Copies repmgr's `error_list` / `warning_list` items (`R:configfile.c`, `parse_configuration_item`),
/// but every item also names the file, the line (when the problem belongs to one line) and the key.
/// The message never contains a password: the initializer masks any `password=…` it finds
/// (`ConninfoSyntax.redactingPasswords(in:)`), so callers may quote conninfo values freely.
public struct ConfigDiagnostic: Sendable, Equatable, CustomStringConvertible {
    /// `warning`: reported, the file still loads. `error`: the file does not load (exit 1).
    public enum Severity: Sendable, Equatable {
        case warning, error
    }

    /// Whether the file still loads.
    public var severity: Severity
    /// Absolute path of the file the problem is in (the top-level file for whole-file problems
    /// such as a missing required key).
    public var file: String
    /// 1-based line, or `nil` when the problem is not on one line (a missing required key).
    public var line: Int?
    /// The setting concerned (`"priority"`, `"include"` …), or `nil` for a line without a name.
    public var key: String?
    /// What is wrong, in one sentence, without file/line/key (those are in the other fields).
    public var message: String

    /// A diagnostic; any password in `message` is masked here.
    public init(_ severity: Severity, file: String, line: Int?, key: String?, message: String) {
        self.severity = severity
        self.file = file
        self.line = line
        self.key = key
        self.message = ConninfoSyntax.redactingPasswords(in: message)
    }

    /// `file:line: key "name": message`, e.g.
    /// `/etc/keel.conf:12: key "priority": invalid value "abc": expected an integer`.
    /// The line and key parts are left out when absent.
    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let key { text += "key \"\(key)\": " }
        return text + message
    }
}

/// Loading a configuration file failed. Holds every problem found in the one pass (all errors
/// and the warnings seen alongside them), as repmgr's `exit_with_config_file_errors` prints them.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// Every diagnostic, errors and warnings, in the order they were found.
    public var diagnostics: [ConfigDiagnostic]

    /// An error holding `diagnostics` (at least one with severity `.error`).
    public init(diagnostics: [ConfigDiagnostic]) {
        self.diagnostics = diagnostics
    }

    /// The diagnostics with severity `.error` (at least one).
    public var errors: [ConfigDiagnostic] { diagnostics.filter { $0.severity == .error } }
    /// The diagnostics with severity `.warning`.
    public var warnings: [ConfigDiagnostic] { diagnostics.filter { $0.severity == .warning } }

    /// `items` by file (first appearance), then line (none last); a stable order otherwise.
    static func inFileOrder(_ items: [ConfigDiagnostic]) -> [ConfigDiagnostic] {
        var files: [String: Int] = [:]
        for item in items where files[item.file] == nil { files[item.file] = files.count }
        return items.enumerated().sorted { a, b in
            let ka = (files[a.element.file] ?? 0, a.element.line ?? Int.max, a.offset)
            let kb = (files[b.element.file] ?? 0, b.element.line ?? Int.max, b.offset)
            return ka < kb
        }.map(\.element)
    }

    /// The error as the operator sees it: status `.badConfig` (exit 1); the message lists every
    /// error, one per line; the detail lists the warnings found alongside, if any.
    /// Errors and warnings are listed by file (in the order the files were read), then by line; those
    /// without a line (a missing required key) come last.
    public var keelError: KeelError {
        let errorLines = Self.inFileOrder(errors).map { "  \($0)" }.joined(separator: "\n")
        let warningLines = Self.inFileOrder(warnings).map { "  \($0)" }.joined(separator: "\n")
        return KeelError(
            .badConfig,
            "following errors were found in the configuration file:\n" + errorLines,
            detail: warnings.isEmpty
                ? nil : "the following problems were also found in the configuration file:\n" + warningLines
        )
    }

    /// Same text as `keelError.description`.
    public var description: String { keelError.description }
}

/// Collects diagnostics during one load; internal to the parser.
struct DiagnosticLog: Sendable {
    private(set) var items: [ConfigDiagnostic] = []

    var hasErrors: Bool { items.contains { $0.severity == .error } }
    var warnings: [ConfigDiagnostic] { items.filter { $0.severity == .warning } }

    mutating func append(_ diagnostic: ConfigDiagnostic) {
        items.append(diagnostic)
    }

    mutating func error(_ file: String, _ line: Int?, _ key: String?, _ message: String) {
        items.append(ConfigDiagnostic(.error, file: file, line: line, key: key, message: message))
    }

    mutating func warning(_ file: String, _ line: Int?, _ key: String?, _ message: String) {
        items.append(ConfigDiagnostic(.warning, file: file, line: line, key: key, message: message))
    }
}

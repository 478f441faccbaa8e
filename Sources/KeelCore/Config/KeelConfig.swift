#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A loaded, validated configuration file (repmgr.conf syntax and keys, plus Keel's own).
///
/// Loading reads the file and its includes (`ConfigFileReader`, PostgreSQL's config lexer),
/// applies the settings table (`ConfigSettings.all`) and runs repmgr's cross-key checks
/// (`R:configfile.c` `_parse_config`). Every problem is collected in one pass: if any is an
/// error, loading throws one `ConfigError` listing them all (exit status 1); otherwise the
/// warnings are kept in `warnings` for the caller to print.
///
/// Reading values: `string(_:)`, `int(_:)`, `bool(_:)`, `list(_:)` by key (the default when the
/// key is not set), or the typed properties below. Durations are in seconds unless the setting
/// says otherwise; `luaMemoryLimitMB` is in megabytes.
public struct KeelConfig: Sendable {
    /// Absolute path of the loaded file.
    public let path: String
    /// Warnings found while loading (unknown or deprecated keys, a world-readable password).
    public let warnings: [ConfigDiagnostic]
    let values: ConfigValues

    init(path: String, warnings: [ConfigDiagnostic], values: ConfigValues) {
        self.path = path
        self.warnings = warnings
        self.values = values
    }

    // MARK: - Loading

    /// Reads and validates the configuration file at `path` (relative paths are taken from the
    /// current directory) and the files it includes.
    /// - Throws: `ConfigError` with every error (and the warnings seen with them) when the file
    ///   is missing or unreadable, has a malformed line, a bad value, a missing required key or
    ///   fails a cross-key check.
    public static func load(path: String) throws(ConfigError) -> KeelConfig {
        let absolute = ConfigPath.absolute(path, relativeTo: FileManager.default.currentDirectoryPath)
        var reader = ConfigFileReader()
        guard reader.readFile(absolute) else {
            throw ConfigError(diagnostics: reader.entries.compactMap {
                if case .diagnostic(let diagnostic) = $0 { diagnostic } else { nil }
            })
        }
        return try finish(reader, path: absolute)
    }

    /// Reads and validates `text` as if it were the content of `file`; `include` directives are
    /// resolved on disk relative to `file`'s directory, and the password-permission check
    /// looks at `file` only if it exists. For tests and for configuration that does not come
    /// from disk.
    /// - Throws: `ConfigError`, as `load(path:)`.
    public static func parse(text: String, file: String) throws(ConfigError) -> KeelConfig {
        let absolute = ConfigPath.absolute(file, relativeTo: FileManager.default.currentDirectoryPath)
        var reader = ConfigFileReader()
        reader.read(text: text, file: absolute)
        return try finish(reader, path: absolute)
    }

    /// The configuration file to use when no `-f` is given: the first that `exists` of
    /// `./keel.conf`, `/etc/keel.conf`, `./repmgr.conf`, `/etc/repmgr.conf` (`./` meaning
    /// `currentDirectory`), or `nil`. repmgr's search (`R:configfile.c` `load_config`) with
    /// Keel's own names first.
    public static func defaultPath(currentDirectory: String, exists: (String) -> Bool) -> String? {
        let directory = ConfigPath.canonicalize(currentDirectory)
        let local = { (name: String) in directory == "/" ? "/" + name : directory + "/" + name }
        let candidates = [local("keel.conf"), "/etc/keel.conf", local("repmgr.conf"), "/etc/repmgr.conf"]
        return candidates.first(where: exists)
    }

    private static func finish(_ reader: ConfigFileReader, path: String) throws(ConfigError) -> KeelConfig {
        var log = DiagnosticLog()
        var values = ConfigValues()
        values.apply(reader.entries, log: &log)
        Self.checkRequiredAndCrossKeys(values, file: path, log: &log)
        Self.checkPasswordFilePermissions(reader.assignments, log: &log)
        Self.checkHookTemplates(values, file: path, log: &log)
        if log.hasErrors { throw ConfigError(diagnostics: log.items) }
        return KeelConfig(path: path, warnings: log.warnings, values: values)
    }

    // MARK: - Values by key

    /// The value of a string, path, interval or enumerated setting (the default when not set;
    /// enumerations in the table's spelling, e.g. `log_level` upper-case).
    /// - Precondition: `key` is a non-list, non-integer, non-boolean key of `ConfigSettings.all`.
    public func string(_ key: String) -> String {
        switch Self.kind(of: key) {
        case .string, .path, .interval, .enumeration: return values.string(key)
        default: preconditionFailure("configuration key \"\(key)\" is not a string setting")
        }
    }

    /// The value of an integer setting (the default when not set).
    /// - Precondition: `key` is an integer key of `ConfigSettings.all`.
    public func int(_ key: String) -> Int {
        guard case .integer = Self.kind(of: key) else {
            preconditionFailure("configuration key \"\(key)\" is not an integer setting")
        }
        return values.int(key)
    }

    /// The value of a boolean setting (the default when not set).
    /// - Precondition: `key` is a boolean key of `ConfigSettings.all`.
    public func bool(_ key: String) -> Bool {
        guard case .boolean = Self.kind(of: key) else {
            preconditionFailure("configuration key \"\(key)\" is not a boolean setting")
        }
        return values.bool(key)
    }

    /// The items of a list setting (`event_notifications`, `tablespace_mapping`), every
    /// occurrence's items in file order; `[]` when not set.
    /// - Precondition: `key` is a list key of `ConfigSettings.all`.
    public func list(_ key: String) -> [String] {
        guard case .list = Self.kind(of: key) else {
            preconditionFailure("configuration key \"\(key)\" is not a list setting")
        }
        return values.list(key)
    }

    /// The effective typed value of any key of the table (explicit or default).
    /// - Precondition: `key` is in `ConfigSettings.all`.
    public func value(_ key: String) -> ConfigValue {
        guard let value = values.value(key) else { preconditionFailure("unknown configuration key \"\(key)\"") }
        return value
    }

    /// True when `key` was given explicitly in the file (or an included file).
    public func isSet(_ key: String) -> Bool { values.explicit[key] != nil }

    /// Where `key` was last set, or `nil` when it has its default.
    public func location(of key: String) -> ConfigLocation? { values.locations[key] }

    private static func kind(of key: String) -> ConfigSetting.Kind {
        guard let setting = ConfigSettings.setting(named: key) else {
            preconditionFailure("unknown configuration key \"\(key)\"")
        }
        return setting.kind
    }
}

extension KeelConfig {
    /// The configuration of a listing run with no configuration file, only `-h/-p/-U/-d`
    /// (`cluster show`, `cluster event`, as repmgr allows): every key at its default, no node identity
    /// (`nodeID` 0, `path` empty), `conninfo` empty so the command line alone names the node to read.
    public static let withoutFile = KeelConfig(path: "", warnings: [], values: ConfigValues())
}

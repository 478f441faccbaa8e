/// The explicitly given values of one load, typed, with where each came from; falls back to the
/// settings table for the rest. Internal storage of `KeelConfig`.
struct ConfigValues: Sendable {
    /// Explicit values by key (list keys: every item of every occurrence).
    var explicit: [String: ConfigValue] = [:]
    /// Where each explicit key was last set.
    var locations: [String: ConfigLocation] = [:]

    /// The effective value of a table key: explicit, else the key it defaults to, else the
    /// table's default. `nil` for a key not in the table.
    func value(_ key: String) -> ConfigValue? {
        if let value = explicit[key] { return value }
        guard let setting = ConfigSettings.setting(named: key) else { return nil }
        if let other = setting.defaultsToKey { return value(other) }
        return setting.defaultValue
    }

    func string(_ key: String) -> String {
        if case .string(let value)? = value(key) { return value }
        return ""
    }

    func int(_ key: String) -> Int {
        if case .int(let value)? = value(key) { return value }
        return 0
    }

    func bool(_ key: String) -> Bool {
        if case .bool(let value)? = value(key) { return value }
        return false
    }

    func list(_ key: String) -> [String] {
        if case .list(let value)? = value(key) { return value }
        return []
    }

    /// Applies the settings table to the reader's entries in order (its diagnostics are passed
    /// through to `log` where they occur), as repmgr's
    /// `parse_configuration_item` does: a known key is converted (a bad value is an error and the
    /// key keeps its previous value); a list key appends; a later duplicate wins otherwise; a
    /// deprecated key is a warning; an unknown key is a warning.
    mutating func apply(_ entries: [ConfigFileReader.Entry], log: inout DiagnosticLog) {
        for entry in entries {
            let assignment: ConfigAssignment
            switch entry {
            case .diagnostic(let diagnostic):
                log.append(diagnostic)
                continue
            case .assignment(let next):
                assignment = next
            }
            let location = assignment.location
            guard let setting = ConfigSettings.setting(named: assignment.name) else {
                if let old = ConfigSettings.deprecatedSetting(named: assignment.name) {
                    log.warning(location.file, location.line, assignment.name, old.doc)
                } else {
                    log.warning(location.file, location.line, assignment.name,
                                "unknown name/value pair provided; ignoring")
                }
                continue
            }
            switch setting.convert(assignment.value) {
            case .invalid(let message):
                log.error(location.file, location.line, setting.name, message)
            case .value(.list(let items)):
                var current: [String] = []
                if case .list(let existing)? = explicit[setting.name] { current = existing }
                explicit[setting.name] = .list(current + items)
                locations[setting.name] = location
            case .value(let value):
                explicit[setting.name] = value
                locations[setting.name] = location
            }
        }
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Checks that look at more than one line: required keys, conninfo syntax, node name, the
/// warning/critical pairs, the Barman pair (`R:configfile.c` `_parse_config`, l.383–466), and file
/// permissions. Unlike repmgrd, keeld does not require `promote_command`/`follow_command` with
/// `failover=automatic`: when they are empty it runs Keel's own promote and follow.
extension KeelConfig {
    static func checkRequiredAndCrossKeys(_ values: ConfigValues, file: String, log: inout DiagnosticLog) {
        func at(_ key: String) -> (file: String, line: Int?) {
            guard let location = values.locations[key] else { return (file, nil) }
            return (location.file, location.line)
        }

        // required keys
        if values.explicit["node_id"] == nil {
            log.error(file, nil, "node_id", "required parameter was not found")
        }
        for key in ["node_name", "conninfo", "data_directory"] where values.string(key).isEmpty {
            let place = at(key)
            let message = values.explicit[key] == nil ? "required parameter was not found" : "must not be empty"
            log.error(place.file, place.line, key, message)
        }

        // node_name: printable ASCII (used as application_name in primary_conninfo)
        let nodeName = values.string("node_name")
        if !nodeName.utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }) {
            let place = at("node_name")
            log.error(place.file, place.line, "node_name", "must contain only printable ASCII characters")
        }

        // conninfo: libpq syntax and keywords
        let conninfo = values.string("conninfo")
        if !conninfo.isEmpty {
            do throws(ConninfoSyntax.SyntaxError) {
                _ = try ConninfoSyntax.parse(conninfo)
            } catch {
                let place = at("conninfo")
                log.error(place.file, place.line, "conninfo",
                          "\(error.message)" + (conninfo.lowercased().contains("password") ? "" : " (provided: \"\(ConninfoSyntax.masked(conninfo))\")"))
            }
        }

        // logical_slot_failover: slot sync needs the standby's physical slot (primary_slot_name)
        if values.bool("logical_slot_failover"), !values.bool("use_replication_slots") {
            let place = at("logical_slot_failover")
            log.error(place.file, place.line, "logical_slot_failover",
                      "needs \"use_replication_slots=true\": PostgreSQL syncs logical slots only to a standby with a physical slot")
        }

        checkKeelKeyValues(values, file: file, log: &log)
        checkConsensusKeys(values, at: at, log: &log)

        // warning < critical pairs, reconnect >= rejoin
        checkOrder(values, lower: "archive_ready_warning", upper: "archive_ready_critical", strict: true,
                   message: "\"archive_ready_critical\" must be greater than \"archive_ready_warning\"",
                   file: file, log: &log)
        checkOrder(values, lower: "replication_lag_warning", upper: "replication_lag_critical", strict: true,
                   message: "\"replication_lag_critical\" must be greater than \"replication_lag_warning\"",
                   file: file, log: &log)
        checkOrder(values, lower: "node_rejoin_timeout", upper: "standby_reconnect_timeout", strict: false,
                   message: "\"standby_reconnect_timeout\" must be equal to or greater than \"node_rejoin_timeout\"",
                   file: file, log: &log)

        // Barman: host and server go together
        let barmanHost = values.string("barman_host")
        let barmanServer = values.string("barman_server")
        if barmanHost.isEmpty != barmanServer.isEmpty {
            let key = barmanHost.isEmpty ? "barman_server" : "barman_host"
            let place = at(key)
            log.error(place.file, place.line, key,
                      "\"barman_host\" (hostname of the Barman server) and \"barman_server\" (its [server] section "
                          + "in the Barman configuration) must be set together")
        }
    }

    /// The Keel keys whose value has a grammar of its own: each bad value is an error naming the key and
    /// its line, with the accepted forms.
    static func checkKeelKeyValues(_ values: ConfigValues, file: String, log: inout DiagnosticLog) {
        checkParse(values, "http_listen", file: file, log: &log,
                   hint: { _ in "invalid value \"\(values.string("http_listen"))\": use PORT, HOST:PORT or [IPv6]:PORT ('' = off)" }) { (value: String) throws(KeelError) in
            _ = try HTTPListenAddress.parse(value)
        }
        checkParse(values, "synchronous_mode", file: file, log: &log, hint: { $0.message }) { (value: String) throws(KeelError) in
            _ = try SynchronousMode.parse(value)
        }
        checkParse(values, "remote_http_port", file: file, log: &log,
                   hint: { "\($0.message): use PORT or NODE_ID:PORT pairs separated by commas" }) { (value: String) throws(KeelError) in
            _ = try RemoteHTTPPort.parse(value)
        }
    }

    /// Runs `parse` on `key`'s value and logs `hint(error)` at the key's file and line when it throws.
    private static func checkParse(_ values: ConfigValues, _ key: String, file: String, log: inout DiagnosticLog,
                                   hint: (KeelError) -> String, _ parse: (String) throws(KeelError) -> Void) {
        do throws(KeelError) {
            try parse(values.string(key))
        } catch {
            let location = values.locations[key]
            log.error(location?.file ?? file, location?.line, key, hint(error))
        }
    }

    /// `lower` < `upper` (or ≤ when not `strict`); the error names whichever of the two was set
    /// (`upper` when both), at its line.
    private static func checkOrder(
        _ values: ConfigValues, lower: String, upper: String, strict: Bool, message: String, file: String,
        log: inout DiagnosticLog
    ) {
        let low = values.int(lower)
        let high = values.int(upper)
        guard strict ? low >= high : low > high else { return }
        let key = values.locations[upper] != nil ? upper : lower
        let location = values.locations[key]
        log.error(location?.file ?? file, location?.line, key, message)
    }

    /// A file holding a password in `conninfo` must not be readable by group or others: a warning
    /// per such file (the password itself is never printed).
    static func checkPasswordFilePermissions(_ assignments: [ConfigAssignment], log: inout DiagnosticLog) {
        var checked: Set<String> = []
        for assignment in assignments where assignment.name == "conninfo" {
            let file = assignment.location.file
            guard !checked.contains(file), ConninfoSyntax.containsPassword(assignment.value) else { continue }
            checked.insert(file)
            guard let mode = permissions(of: file), mode & 0o044 != 0 else { continue }
            log.warning(file, assignment.location.line, "conninfo",
                        "this file holds a password and is readable by group or others (mode "
                            + String(mode & 0o777, radix: 8) + "); restrict it with \"chmod 600\" "
                            + "or keep the password in a .pgpass file")
        }
    }

    /// The permission bits of `file`, or `nil` when it cannot be examined.
    static func permissions(of file: String) -> Int? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: file) else { return nil }
        let value = attributes[.posixPermissions]
        return value as? Int
    }

    /// The `%` placeholder letters of each shell hook key.
    static let hookPlaceholderLetters: [String: Set<Character>] = [
        "event_notification_command": ["n", "e", "s", "t", "d", "p", "c", "a"],
        "failover_validation_command": ["n", "a", "v", "u", "t"],
        "follow_command": ["n"],
        "child_nodes_disconnect_command": ["p"],
    ]

    /// A shell hook whose placeholders Keel's quoting cannot protect (a second shell level such as `ssh`
    /// or `sh -c`, or constructs where values are reduced to plain characters): a warning naming the key.
    static func checkHookTemplates(_ values: ConfigValues, file: String, log: inout DiagnosticLog) {
        for (key, letters) in hookPlaceholderLetters.sorted(by: { $0.key < $1.key }) {
            let template = values.string(key)
            guard !template.hasPrefix("lua:"), let problem = Placeholders.secondLevelWarning(template, letters: letters) else { continue }
            let location = values.locations[key]
            log.warning(location?.file ?? file, location?.line, key, problem)
        }
    }

    /// `dcs` (the endpoint list), `dcs_prefix` (absolute) and `cluster_name` (one path segment).
    private static func checkConsensusKeys(_ values: ConfigValues, at: (String) -> (file: String, line: Int?),
                                           log: inout DiagnosticLog) {
        do throws(KeelError) {
            _ = try DCSSettings.parse(values.string("dcs"))
        } catch {
            let place = at("dcs")
            log.error(place.file, place.line, "dcs", error.message)
        }
        let prefix = values.string("dcs_prefix")
        if !prefix.isEmpty, !prefix.hasPrefix("/") {
            let place = at("dcs_prefix")
            log.error(place.file, place.line, "dcs_prefix", "must start with \"/\" (provided: \"\(prefix)\")")
        }
        let name = values.string("cluster_name")
        if name.isEmpty || name.contains("/") || !name.utf8.allSatisfy({ $0 > 0x20 && $0 <= 0x7E }) {
            let place = at("cluster_name")
            log.error(place.file, place.line, "cluster_name", "must be printable ASCII without spaces or \"/\" (provided: \"\(name)\")")
        }
    }
}

/// Rewrites `keel`'s arguments into the shape swift-argument-parser expects, so that repmgr's grammar
/// works as scripts write it (repmgr-client.c matches the words with `strcasecmp` and accepts options
/// anywhere): the object and action words are found among the arguments, lower-cased, aliases resolved
/// (`master` → `primary`, `cluster events` → `cluster event`, `primary check|status` → `node check|status`),
/// and moved to the front; every option keeps its value and relative order.
public enum ArgumentNormalizer {
    /// Options that take a value as the next argument (`-f keel.conf`); `--opt=value` needs no entry.
    static let valueOptions: Set<String> = [
        "-f", "--config-file", "-h", "--host", "-p", "--port", "-U", "--username", "-d", "--dbname",
        "-L", "--log-level", "--node-id", "--node-name", "--upstream-node-id", "--wait-start", "--limit", "--event",
        "-k", "--keep-history", "-b", "--pg_bindir", "--pg-bindir", "--action", "--config-files", "--context",
        "-D", "--pgdata", "-R", "--remote-user", "-S", "--superuser", "-C", "--remote-config-file",
        "--nodes", "--base-port", "--locations", "--replication-user",
        "--config-archive-dir", "--recovery-min-apply-delay", "--upstream-conninfo",
    ]

    /// repmgr's options whose value is optional (`--force-rewind[=PATH]`): `--name=value` becomes `--name`
    /// followed by the hidden option that carries the value (`--force-rewind-path=PATH`).
    public static let optionalValueOptions: [String: String] = [
        "--force-rewind": "--force-rewind-path",
        "--copy-external-config-files": "--copy-external-config-files-to",
        "--wait-sync": "--wait-sync-timeout",
    ]

    /// Splits `--name=value` of an option whose value is optional into the flag and its hidden option.
    public static func splitOptionalValues(_ arguments: [String]) -> [String] {
        arguments.flatMap { argument -> [String] in
            guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "="),
                  let hidden = optionalValueOptions[String(argument[..<equals])] else { return [argument] }
            return [String(argument[..<equals]), hidden + String(argument[equals...])]
        }
    }

    /// Objects whose next word is an action.
    static let objects: Set<String> = ["primary", "standby", "witness", "node", "cluster", "service", "daemon", "hook", "sandbox"]

    /// `reorder`, then `splitOptionalValues`.
    public static func normalize(_ given: [String]) -> [String] { reorder(splitOptionalValues(given)) }

    /// The command words found, lower-cased, aliases resolved and moved to the front; options unchanged.
    public static func reorder(_ arguments: [String]) -> [String] {
        var positionals: [Int] = []
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            if arg == "--" { break }
            if arg.hasPrefix("-"), arg.count > 1 {
                if valueOptions.contains(arg) { i += 1 }
            } else {
                positionals.append(i)
                if positionals.count == 2 { break }
            }
            i += 1
        }
        guard let first = positionals.first else { return arguments }
        var object = arguments[first].lowercased()
        if object == "master" { object = "primary" }
        guard objects.contains(object) else {
            // `keel run PLAYBOOK` and friends: only the command word is normalised.
            var rest = arguments
            rest.remove(at: first)
            return [object] + rest
        }
        var words = [object]
        var rest = arguments
        if positionals.count == 2 {
            var action = arguments[positionals[1]].lowercased()
            switch (object, action) {
            case ("cluster", "events"): action = "event"
            case ("primary", "check"), ("primary", "status"), ("standby", "check"), ("standby", "status"):
                words[0] = "node"
            default: break
            }
            words.append(action)
            rest.remove(at: positionals[1])
        }
        rest.remove(at: first)
        return words + rest
    }
}

/// repmgr's global options: repmgr's getopt table accepts every one of them with every command and
/// warns about those a command does not use. Keel declares each option on the commands where it has an
/// effect; on any other command it is accepted, named in a warning and ignored, so that a script written
/// for repmgr never stops at "Unknown option". Source: repmgr 5.3 `repmgr-client.c` (`long_options`,
/// `check_cli_parameters`).
public enum RepmgrGlobalOptions {
    /// How an option takes its value.
    public enum Value: Sendable {
        /// A flag (`--nagios`).
        case none
        /// A value, attached (`--node-id=3`, `-R postgres`, `-Rpostgres`) or as the next argument.
        case required
        /// An optional value, only when attached (`--wait`, `--wait=30`, `-w`).
        case optional
    }

    /// One option: its spellings (short first when it has one) and how it takes a value.
    public struct Spec: Sendable {
        public var names: [String]
        public var value: Value
    }

    /// repmgr 5.3's global options (the command-specific ones are declared by the commands).
    public static let specs: [Spec] = [
        Spec(names: ["-R", "--remote-user"], value: .required),
        Spec(names: ["-S", "--superuser"], value: .required),
        Spec(names: ["-C", "--remote-config-file"], value: .required),
        Spec(names: ["-D", "--pgdata"], value: .required),
        Spec(names: ["--node-id"], value: .required),
        Spec(names: ["--node-name"], value: .required),
        Spec(names: ["--nagios"], value: .none),
        Spec(names: ["--optformat"], value: .none),
        Spec(names: ["--detail"], value: .none),
        Spec(names: ["-w", "--wait"], value: .optional),
        Spec(names: ["-W", "--no-wait"], value: .none),
        Spec(names: ["--wait-start"], value: .required),
        Spec(names: ["--wait-sync"], value: .optional),
        Spec(names: ["--csv"], value: .none),
        Spec(names: ["--compact"], value: .none),
        Spec(names: ["-t", "--terse"], value: .none),
        Spec(names: ["--dry-run"], value: .none),
        Spec(names: ["-F", "--force"], value: .none),
    ]

    /// Whether any of `arguments` is one of these options: only then does a command's help need reading.
    public static func mentioned(in arguments: [String]) -> Bool { arguments.contains { match($0) != nil } }

    /// The option names a command's help lists (`-f, --config-file <config-file>` gives `-f` and
    /// `--config-file`). `help` must list every option, hidden ones included, one per line, the names
    /// first on the line.
    public static func declaredNames(inHelp help: String) -> Set<String> { Set(declared(inHelp: help).keys) }

    /// The option names a command's help lists, each with whether it takes a value (`<value>` follows).
    public static func declared(inHelp help: String) -> [String: Bool] {
        var names: [String: Bool] = [:]
        for line in help.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix("-") else { continue }
            // The names run up to a value placeholder (`<value>`) or the two spaces before the description.
            var head = Substring(trimmed.prefix { $0 != "<" })
            if let gap = head.firstRange(of: "  ") { head = head[..<gap.lowerBound] }
            let takesValue = head.count < trimmed.count && trimmed[head.endIndex...].hasPrefix("<")
            for name in head.split(separator: ",") {
                let word = name.drop { $0 == " " }.prefix { $0 != " " && $0 != "=" }
                if word.hasPrefix("-") { names[String(word)] = takesValue }
            }
        }
        return names
    }

    /// Removes from `arguments` every repmgr global option (and its value) that is not in `declared`.
    /// Returns the arguments left and the options removed (`--node-id 3` → `--node-id=3`, `-Rpg` → `-R pg`).
    /// Everything after `--` is left alone.
    /// An option the command declares as a flag where repmgr takes an optional value (`--wait=30` on
    /// `standby follow`) keeps the flag (`--wait`); the whole option is reported as ignored, its value
    /// with it (`isValueOnly` tells the two apart).
    public static func strip(_ arguments: [String], declared: Set<String>) -> (kept: [String], ignored: [String]) {
        strip(arguments, declared: Dictionary(uniqueKeysWithValues: declared.map { ($0, true) }))
    }

    /// `strip` with each declared name's "takes a value" (from `declared(inHelp:)`).
    public static func strip(_ arguments: [String], declared: [String: Bool]) -> (kept: [String], ignored: [String]) {
        var kept: [String] = []
        var ignored: [String] = []
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            if arg == "--" {
                kept += arguments[i...]
                break
            }
            if let (spec, name, value) = match(arg), let attached = value, spec.value == .optional, declared[name] == false {
                kept.append(name)
                ignored.append("\(name)=\(attached)")
                i += 1
                continue
            }
            guard let (spec, name, attached) = match(arg), declared[name] == nil else {
                kept.append(arg)
                i += 1
                continue
            }
            let separator = name.hasPrefix("--") ? "=" : " "
            var shown = name + (attached.map { separator + $0 } ?? "")
            if case .required = spec.value, attached == nil, i + 1 < arguments.count {
                shown += separator + arguments[i + 1]
                i += 1
            }
            ignored.append(shown)
            i += 1
        }
        return (kept, ignored)
    }

    /// True for an ignored entry whose flag was kept (`--wait=30` on a command whose `--wait` is a flag).
    public static func isValueOnly(_ ignored: String, declared: [String: Bool]) -> Bool {
        guard let (spec, name, value) = match(ignored) else { return false }
        return value != nil && spec.value == .optional && declared[name] == false
    }

    /// The spec, the name matched and an attached value, when `arg` is one of the options.
    static func match(_ arg: String) -> (Spec, String, String?)? {
        for spec in specs {
            for name in spec.names {
                if arg == name { return (spec, name, nil) }
                if name.hasPrefix("--"), arg.hasPrefix(name + "=") {
                    return (spec, name, String(arg.dropFirst(name.count + 1)))
                }
                if !name.hasPrefix("--"), arg.count > 2, arg.hasPrefix(name), !arg.hasPrefix("--"), spec.value != .none {
                    return (spec, name, String(arg.dropFirst(2)))
                }
            }
        }
        return nil
    }
}

extension RepmgrGlobalOptions.Value: Equatable {}

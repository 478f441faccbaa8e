/// A value of a control request's JSON body: `true`/`false`, a number or a string.
public enum ControlValue: Sendable, Equatable, Codable {
    case bool(Bool)
    case number(Int)
    case text(String)

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Int.self) {
            self = .number(number)
        } else {
            self = .text(try container.decode(String.self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .bool(let flag): try container.encode(flag)
        case .number(let number): try container.encode(number)
        case .text(let text): try container.encode(text)
        }
    }
}

/// One option of a control route: the JSON field naming it in the request body, and the `keel` option it
/// becomes (`flag` alone for a boolean, `flag VALUE` otherwise).
public struct ControlOption: Sendable, Equatable {
    /// How the option is given.
    public enum Kind: Sendable, Equatable {
        /// `true` adds the flag, `false` leaves it out.
        case flag
        /// A string (`-d CONNINFO`).
        case text
        /// A whole number (`--upstream-node-id 2`).
        case number
    }

    /// The JSON field (`conninfo`, `force_rewind`).
    public var field: String
    /// `keel`'s option (`-d`, `--force-rewind`).
    public var flag: String
    /// The command-line spellings `keel` accepts for it (the client maps them back to `field`).
    public var spellings: [String]
    public var kind: Kind
    /// The request must give it.
    public var required: Bool

    init(_ field: String, _ flag: String, _ kind: Kind, also: [String] = [], required: Bool = false) {
        self.field = field
        self.flag = flag
        self.spellings = [flag] + also
        self.kind = kind
        self.required = required
    }

    static let dryRun = ControlOption("dry_run", "--dry-run", .flag)
}

/// A control route (POST, bearer token) and the `keel` command it runs on this node with this node's
/// configuration file; its JSON body's fields are the command's options.
public enum ControlRoute: String, Sendable, CaseIterable {
    case pause, unpause, follow, switchover, promote, rejoin
    case witnessRegister = "witness/register"
    case serviceStart = "service/start", serviceStop = "service/stop", serviceRestart = "service/restart"
    case serviceReload = "service/reload"

    /// `keel`'s command words (after `-f CONFIG`), before the options.
    public var command: [String] {
        switch self {
        case .pause: ["service", "pause"]
        case .unpause: ["service", "unpause"]
        case .follow: ["standby", "follow"]
        case .switchover: ["standby", "switchover"]
        case .promote: ["standby", "promote"]
        case .rejoin: ["node", "rejoin"]
        case .witnessRegister: ["witness", "register"]
        case .serviceStart, .serviceStop, .serviceRestart, .serviceReload: ["node", "service", "--action=\(serviceAction!)"]
        }
    }

    /// `start`, `stop`, `restart` or `reload` for the service routes.
    public var serviceAction: String? {
        rawValue.hasPrefix("service/") ? String(rawValue.dropFirst("service/".count)) : nil
    }

    /// The options the route takes (its JSON body's fields).
    public var options: [ControlOption] {
        let listActions = ControlOption("list_actions", "--list-actions", .flag)
        switch self {
        case .pause, .unpause: return []
        case .follow: return [ControlOption("upstream_node_id", "--upstream-node-id", .number), .dryRun]
        case .switchover:
            return [ControlOption("siblings_follow", "--siblings-follow", .flag), ControlOption("force_rewind", "--force-rewind", .flag),
                    ControlOption("always_promote", "--always-promote", .flag), .dryRun]
        case .promote: return [ControlOption("siblings_follow", "--siblings-follow", .flag), .dryRun]
        case .rejoin:
            return [ControlOption("conninfo", "-d", .text, also: ["--dbname"], required: true),
                    ControlOption("force_rewind", "--force-rewind", .flag), ControlOption("config_files", "--config-files", .text), .dryRun]
        case .witnessRegister:
            return [ControlOption("conninfo", "-d", .text, also: ["--dbname"], required: true),
                    ControlOption("force", "--force", .flag, also: ["-F"]), .dryRun]
        case .serviceStop, .serviceRestart: return [ControlOption("checkpoint", "--checkpoint", .flag), listActions, .dryRun]
        case .serviceStart, .serviceReload: return [listActions, .dryRun]
        }
    }

    /// Seconds the command may run before it is stopped.
    public var timeout: Double {
        switch self {
        case .pause, .unpause: 30
        case .follow, .serviceStart, .serviceStop, .serviceRestart, .serviceReload, .witnessRegister, .promote: 300
        case .rejoin: 1800
        case .switchover: 900
        }
    }

    /// `keel`'s arguments (after `-f CONFIG`) for a request body's `fields`. Throws a message naming the
    /// field when one is unknown, of the wrong type, or required and missing.
    public func arguments(_ fields: [String: ControlValue] = [:]) throws(ControlRequestError) -> [String] {
        let known = options
        if let unknown = fields.keys.sorted().first(where: { key in !known.contains { $0.field == key } }) {
            let allowed = known.isEmpty ? "none" : known.map(\.field).joined(separator: ", ")
            throw ControlRequestError("unknown field \"\(unknown)\" for POST /\(rawValue) (fields: \(allowed))")
        }
        var arguments = command
        for option in known {
            switch (option.kind, fields[option.field]) {
            case (_, nil):
                if option.required { throw ControlRequestError("field \"\(option.field)\" is required for POST /\(rawValue)") }
            case (.flag, .bool(let on)?):
                if on { arguments.append(option.flag) }
            case (.text, .text(let text)?) where !text.isEmpty:
                arguments += [option.flag, text]
            case (.number, .number(let number)?):
                arguments += [option.flag, String(number)]
            case (let kind, _):
                let wanted = kind == .flag ? "true or false" : kind == .number ? "a whole number" : "a non-empty string"
                throw ControlRequestError("field \"\(option.field)\" of POST /\(rawValue) must be \(wanted)")
            }
        }
        return arguments
    }
}

/// Why a control request's body was refused (answered 400).
public struct ControlRequestError: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

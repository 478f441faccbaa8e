/// A `keel` command of `remote_transport = http` as a request to the node's keeld: the read-only ones
/// keel asks other nodes (`node status --is-shutdown-cleanly`, `cluster show --csv`, `cluster matrix
/// --csv`) become GET requests; the others a control route (POST) with the options as its JSON body.
public enum KeeldCall: Sendable, Equatable {
    /// `GET path` (no body, no token needed).
    case read(path: String)
    /// `POST /route` with `fields` as the JSON body.
    case control(ControlRoute, fields: [String: ControlValue])

    /// The read routes and the command each runs.
    public static let reads: [(path: String, command: [String])] = [
        ("/node/shutdown-state", ["node", "status", "--is-shutdown-cleanly"]),
        ("/cluster?format=csv", ["cluster", "show", "--csv"]),
        ("/cluster/matrix", ["cluster", "matrix", "--csv"]),
    ]

    /// The method and path of the request.
    public var method: String {
        if case .read = self { return "GET" }
        return "POST"
    }

    public var path: String {
        switch self {
        case .read(let path): path
        case .control(let route, _): "/" + route.rawValue
        }
    }

    /// The request for `keel` `arguments` (without `-f CONFIG`). Throws a message when the command has no
    /// route, or an option has no field (such as `--force-rewind=PATH`: keeld uses its own pg_rewind).
    public static func from(arguments: [String]) throws(ControlRequestError) -> KeeldCall {
        if let read = reads.first(where: { $0.command.sorted() == arguments.sorted() }) { return .read(path: read.path) }
        var words = arguments
        let route: ControlRoute
        if words.starts(with: ["node", "service"]) {
            guard let action = takeValue(of: "--action", from: &words),
                  let found = ControlRoute(rawValue: "service/" + action) else {
                throw ControlRequestError("\"keel \(arguments.joined(separator: " "))\" has no HTTP route (service actions: start, stop, restart, reload)")
            }
            route = found
            words.removeFirst(2)
        } else {
            guard let found = ControlRoute.allCases.first(where: { $0.serviceAction == nil && words.starts(with: $0.command) }) else {
                throw ControlRequestError("\"keel \(arguments.prefix(2).joined(separator: " "))\" has no HTTP route")
            }
            route = found
            words.removeFirst(found.command.count)
        }
        return .control(route, fields: try fields(words, for: route))
    }

    /// The JSON fields of `route` for the option words `words`.
    static func fields(_ words: [String], for route: ControlRoute) throws(ControlRequestError) -> [String: ControlValue] {
        var fields: [String: ControlValue] = [:]
        var index = 0
        while index < words.count {
            let word = words[index]
            let (name, inline) = splitInline(word)
            guard let option = route.options.first(where: { $0.spellings.contains(name) }) else {
                throw ControlRequestError("option \"\(word)\" cannot be sent to POST /\(route.rawValue) (remote_transport = http)")
            }
            if option.kind == .flag {
                guard inline == nil else {
                    throw ControlRequestError("option \"\(word)\" cannot be sent over HTTP: the node uses its own setting")
                }
                fields[option.field] = .bool(true)
                index += 1
                continue
            }
            let value: String
            if let inline {
                value = inline
                index += 1
            } else {
                guard index + 1 < words.count else { throw ControlRequestError("option \"\(word)\" needs a value") }
                value = words[index + 1]
                index += 2
            }
            if option.kind == .number {
                guard let number = Int(value) else { throw ControlRequestError("option \"\(name)\" needs a whole number, not \"\(value)\"") }
                fields[option.field] = .number(number)
            } else {
                fields[option.field] = .text(value)
            }
        }
        return fields
    }

    /// `--name=value` as (`--name`, `value`); other words as (word, nil).
    private static func splitInline(_ word: String) -> (String, String?) {
        guard word.hasPrefix("--"), let equals = word.firstIndex(of: "=") else { return (word, nil) }
        return (String(word[..<equals]), String(word[word.index(after: equals)...]))
    }

    /// Removes `--name VALUE` or `--name=VALUE` from `words` and returns the value.
    private static func takeValue(of name: String, from words: inout [String]) -> String? {
        for (index, word) in words.enumerated() {
            if word.hasPrefix(name + "=") {
                words.remove(at: index)
                return String(word.dropFirst(name.count + 1))
            }
            if word == name, index + 1 < words.count {
                let value = words[index + 1]
                words.removeSubrange(index...(index + 1))
                return value
            }
        }
        return nil
    }
}

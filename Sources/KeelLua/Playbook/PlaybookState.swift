/// The running playbook as the `keel` module sees it: its arguments, its declarations and steps, and what
/// the current step did. One per `LuaEngine.runPlaybook`; used on the engine's thread only.
final class PlaybookState {
    /// `NAME=VALUE` arguments of `keel run` (`keel.args`).
    let arguments: [String: String]
    /// True once `keel.params` ran.
    var declared = false
    /// Set when `keel.params` refused the arguments (the run is then `invalid`, exit 1).
    var argumentError = false
    /// Declared steps in order: name and the registry reference of the function.
    var steps: [(name: String, ref: Int32)] = []
    /// True while the steps run (declaring is over).
    var running = false
    /// `would: …` notes of the current step (dry run).
    var notes: [String] = []
    /// Exit status of the operation that failed in the current step.
    var operationExit: Int32?
    /// True when Ctrl-C ended a wait in the current step.
    var interruptedInStep = false

    /// The state for a run with `arguments`.
    init(arguments: [String: String]) { self.arguments = arguments }

    /// The value of `keel.required` (a marker table checked by `keel.params`).
    static let requiredMarker = "__keel_required"

    /// Checks `arguments` against `declarations` (name → default, or the `keel.required` marker) and
    /// returns the values, converted to each default's type. Throws a message listing every unknown,
    /// missing or malformed argument.
    func resolve(_ declarations: [String: LuaValue]) throws(KeelModuleError) -> LuaValue {
        var problems: [String] = []
        let unknown = arguments.keys.filter { declarations[$0] == nil }.sorted()
        if !unknown.isEmpty {
            problems.append("unknown argument\(unknown.count > 1 ? "s" : "") \(unknown.joined(separator: ", ")) (this playbook takes: \(declarations.keys.sorted().joined(separator: ", ")))")
        }
        var values: [String: LuaValue] = [:]
        var missing: [String] = []
        for (name, declared) in declarations.sorted(by: { $0.key < $1.key }) {
            let required = declared[Self.requiredMarker].boolValue == true
            guard let text = arguments[name] else {
                if required { missing.append(name) } else { values[name] = declared }
                continue
            }
            switch declared {
            case .integer:
                if let i = Int64(text) { values[name] = .integer(i) } else { problems.append("\(name) must be an integer, not \"\(text)\"") }
            case .number:
                if let d = Double(text) { values[name] = .number(d) } else { problems.append("\(name) must be a number, not \"\(text)\"") }
            case .boolean:
                switch text.lowercased() {
                case "true", "yes", "on", "1": values[name] = .boolean(true)
                case "false", "no", "off", "0": values[name] = .boolean(false)
                default: problems.append("\(name) must be true or false, not \"\(text)\"")
                }
            default:
                values[name] = .string(text)
            }
        }
        if !missing.isEmpty {
            problems.append("missing required argument\(missing.count > 1 ? "s" : "") \(missing.map { $0 + "=VALUE" }.joined(separator: ", "))")
        }
        guard problems.isEmpty else { throw KeelModuleError("keel.params: " + problems.joined(separator: "; ")) }
        return .table(values)
    }
}

import Foundation

/// A strict reader of Prometheus' text exposition format (0.0.4) for the tests: every line is a
/// `# HELP`/`# TYPE` comment or `name{labels} value`; a sample's family must have been typed first.
enum PrometheusText {
    struct Invalid: Error, CustomStringConvertible {
        var line: String
        var description: String { "not Prometheus text: \(line)" }
    }

    /// Samples by `name{labels}` (labels as written).
    static func parse(_ text: String) throws -> [String: Double] {
        var typed: Set<String> = []
        var samples: [String: Double] = [:]
        let name = /[a-zA-Z_:][a-zA-Z0-9_:]*/
        let sample = /([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})? (\S+)/
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("# HELP ") { continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, parts[2].wholeMatch(of: name) != nil,
                      ["counter", "gauge", "histogram", "summary", "untyped"].contains(String(parts[3])) else { throw Invalid(line: line) }
                typed.insert(String(parts[2]))
                continue
            }
            guard let match = line.wholeMatch(of: sample), let value = Double(match.3) ?? (match.3 == "+Inf" ? .infinity : nil) else {
                throw Invalid(line: line)
            }
            let family = String(match.1)
            guard typed.contains(family) || typed.contains(where: { family.hasPrefix($0 + "_") }) else { throw Invalid(line: line) }
            samples[family + String(match.2 ?? "")] = value
        }
        return samples
    }
}

/// `synchronous_standby_names` as keeld writes and reads it: `ANY N ("name", ...)`, the names being the
/// standbys' `node_name` (their `application_name` in `primary_conninfo`), sorted by node ID.
public enum SyncStandbyNames {
    /// The setting for `set`; `''` (empty) for asynchronous replication. `names` maps node IDs to
    /// node names; a member without a name is left out.
    public static func render(_ set: SyncSet, names: [Int: String]) -> String {
        guard !set.isAsync else { return "" }
        let quoted = set.members.sorted().compactMap { names[$0] }.map { "\"" + $0.replacingAll("\"", with: "\"\"") + "\"" }
        return "ANY \(set.count) (\(quoted.joined(separator: ", ")))"
    }

    /// The quorum a setting in keeld's own form names; `.async` for an empty setting; `nil` for any
    /// other form (`FIRST`, a bare list, `*`, a name no node has): keeld then replaces it.
    /// `ids` maps node names to node IDs.
    public static func parse(_ text: String, ids: [String: Int]) -> SyncSet? {
        let value = text.trimmingWhitespace()
        if value.isEmpty { return .async }
        guard value.hasPrefix("ANY "), value.hasSuffix(")"), let open = value.firstIndex(of: "(") else { return nil }
        let countText = value[value.index(value.startIndex, offsetBy: 4)..<open].trimmingCharacters(in: " ")
        guard let count = Int(countText), count >= 1 else { return nil }
        let inner = value[value.index(after: open)..<value.index(before: value.endIndex)]
        var members: Set<Int> = []
        for item in splitNames(String(inner)) {
            guard let id = ids[item] else { return nil }
            members.insert(id)
        }
        return members.isEmpty ? nil : SyncSet(count: count, members: members)
    }

    /// `"a", "b""c"` → `a`, `b"c`. Unquoted names are taken as written.
    static func splitNames(_ text: String) -> [String] {
        var names: [String] = []
        var current = ""
        var quoted = false
        let chars = Array(text)
        var index = 0
        while index < chars.count {
            let char = chars[index]
            if quoted {
                if char == "\"", index + 1 < chars.count, chars[index + 1] == "\"" {
                    current.append("\"")
                    index += 1
                } else if char == "\"" {
                    quoted = false
                } else {
                    current.append(char)
                }
            } else if char == "\"" {
                quoted = true
            } else if char == "," {
                names.append(current)
                current = ""
            } else if char != " " {
                current.append(char)
            }
            index += 1
        }
        names.append(current)
        return names.filter { !$0.isEmpty }
    }
}

extension String {
    /// Every occurrence of `target` replaced by `replacement`.
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for char in self { if char == target { out += replacement } else { out.append(char) } }
        return out
    }
}

extension Substring {
    /// The text without leading and trailing `char`s.
    func trimmingCharacters(in char: Character) -> String {
        String(drop { $0 == char }.reversed().drop { $0 == char }.reversed())
    }
}

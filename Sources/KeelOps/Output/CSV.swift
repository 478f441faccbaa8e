/// CSV rows as repmgr prints them: fields separated by commas, quoted with `"` only when `quoteAll`
/// (repmgr quotes the text fields of `node check --csv`) or when a field holds `,`, `"` or a newline.
public enum CSV {
    public static func row(_ fields: [String], quoteAll: Bool = false) -> String {
        fields.map { field in
            guard quoteAll || field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return field }
            return "\"" + field.replacing("\"", with: "\"\"") + "\""
        }.joined(separator: ",")
    }
}

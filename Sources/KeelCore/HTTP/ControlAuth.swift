/// The control routes' bearer token: read from `http_token_file`, which must be readable by its owner
/// only, and compared in constant time with the request's `Authorization: Bearer` header.
public enum ControlAuth {
    /// Why a token file with `mode` (st_mode's permission bits) and `contents` cannot be used; `nil`
    /// when it can. `path` names the file in the message.
    public static func problem(path: String, mode: UInt32, contents: String) -> String? {
        if mode & 0o077 != 0 {
            return "http_token_file \"\(path)\" is readable or writable by group or others (mode \(String(mode & 0o777, radix: 8))); control routes disabled, run \"chmod 600 \(path)\""
        }
        if token(from: contents).isEmpty { return "http_token_file \"\(path)\" is empty; control routes disabled" }
        return nil
    }

    /// The token in a file's contents: its first line, spaces and line ends trimmed.
    public static func token(from contents: String) -> String {
        let first = contents.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).first ?? ""
        return String(first.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

    /// Whether the `Authorization` header value carries `token` (`Bearer TOKEN`); constant time in the
    /// token's length.
    public static func authorizes(header: String?, token: String) -> Bool {
        guard let header, header.hasPrefix("Bearer "), !token.isEmpty else { return false }
        let given = Array(header.dropFirst("Bearer ".count).utf8)
        let wanted = Array(token.utf8)
        var difference = UInt8(given.count == wanted.count ? 0 : 1)
        for index in wanted.indices { difference |= wanted[index] ^ (index < given.count ? given[index] : 0) }
        return difference == 0
    }
}

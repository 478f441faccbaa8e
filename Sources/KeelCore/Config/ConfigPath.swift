/// Lexical path handling for configuration files and path-valued settings (no file-system access).
enum ConfigPath {
    /// Cleans a path as PostgreSQL's `canonicalize_path` does (repmgr applies it to
    /// `data_directory`, `config_directory`, `pg_bindir`, `log_file` …): collapses `//`, drops `.`
    /// components and trailing slashes, and removes `dir/..` pairs. `""` stays `""`.
    static func canonicalize(_ path: String) -> String {
        guard !path.isEmpty else { return path }
        let isAbsolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".":
                continue
            case "..":
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !isAbsolute {
                    parts.append(part)
                }  // "/.." is "/"
            default:
                parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        if isAbsolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// `path` made absolute against `base` (an absolute directory), then canonicalized.
    static func absolute(_ path: String, relativeTo base: String) -> String {
        if path.hasPrefix("/") { return canonicalize(path) }
        return canonicalize(base + "/" + path)
    }

    /// The directory part of an absolute file path (`/etc/keel.conf` → `/etc`).
    static func directory(of file: String) -> String {
        guard let slash = file.lastIndex(of: "/") else { return "." }
        let directory = String(file[..<slash])
        return directory.isEmpty ? "/" : directory
    }
}

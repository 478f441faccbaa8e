import KeelCore

/// Keeps passwords off the command lines of the processes Keel starts (anyone on the host can read them in
/// `ps` or `/proc/PID/cmdline`): a conninfo passed as an argument loses its `password`, which the caller
/// hands to the child as `PGPASSWORD` (environment, readable only by the same user) or on standard input.
public enum CommandLinePassword {
    /// `conninfo` without its password, and the password (`nil` when there is none). A conninfo that does
    /// not parse keeps its text with the password masked.
    public static func split(_ conninfo: String) -> (conninfo: String, password: String?) {
        guard let pairs = Conninfo.parse(conninfo) else {
            return (Conninfo.masked(conninfo), nil)
        }
        let password = pairs.last(where: { $0.key == "password" })?.value
        guard let password else { return (conninfo, nil) }
        return (Conninfo.render(pairs.filter { $0.key != "password" }), password.isEmpty ? nil : password)
    }

    /// `PGPASSWORD` for a child given `conninfo` without its password (`split`), or nothing.
    public static func environment(for conninfo: String) -> [String: String] {
        split(conninfo).password.map { ["PGPASSWORD": $0] } ?? [:]
    }

    /// `keel` arguments with the password removed from every `-d`/`--dbname` conninfo, and the first
    /// password found.
    public static func strippingKeelArguments(_ arguments: [String]) -> (arguments: [String], password: String?) {
        var out: [String] = []
        var password: String?
        var takesConninfo = false
        for argument in arguments {
            if takesConninfo {
                let (stripped, found) = split(argument)
                out.append(stripped)
                password = password ?? found
                takesConninfo = false
            } else if argument.hasPrefix("--dbname=") {
                let (stripped, found) = split(String(argument.dropFirst("--dbname=".count)))
                out.append("--dbname=" + stripped)
                password = password ?? found
            } else {
                out.append(argument)
                takesConninfo = argument == "-d" || argument == "--dbname"
            }
        }
        return (out, password)
    }
}

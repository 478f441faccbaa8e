import ArgumentParser

/// `keeld -f CONFIG [-d|--daemonize] [--pid-file PATH] [--no-pid-file] [-L LEVEL] [-v] [start]`:
/// repmgrd's command line (a trailing `start`, as old guides write it, is accepted and ignored).
struct KeeldOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .long], help: "Configuration file.")
    var configFile: String?
    @Flag(name: [.customShort("d"), .long], help: "Detach and run in the background.")
    var daemonize = false
    @Option(name: [.customShort("p"), .customLong("pid-file")], help: "PID file (default: repmgrd_pid_file, else $TMPDIR/keeld-<node_id>.pid).")
    var pidFile: String?
    @Flag(name: .customLong("no-pid-file"), help: "Write no PID file.")
    var noPidFile = false
    @Option(name: [.customShort("L"), .long], help: "Log level (overrides log_level).")
    var logLevel: String?
    @Flag(name: [.customShort("v"), .long], help: "Verbose (DEBUG) logging.")
    var verbose = false
    @Argument(help: "Ignored (\"start\", as repmgrd accepted it).")
    var words: [String] = []
}

/// The answer of `keel node status --is-shutdown-cleanly`, repmgr 5.3's internal option that
/// `standby switchover` runs on the old primary (over ssh, or locally): one line
/// `--state=UP|SHUTTING_DOWN|DOWN --last-checkpoint-lsn=X/Y|UNCLEAN_SHUTDOWN|UNKNOWN`.
public enum ShutdownState: Sendable, Equatable {
    /// The server answers (`PQping` ok or rejecting).
    case up
    /// The server answers but the control file says it is shutting down.
    case shuttingDown
    /// Cleanly shut down; the shutdown checkpoint starts at `lastCheckpoint`.
    case down(lastCheckpoint: LSN)
    /// Not answering and the control file says it did not shut down cleanly.
    case uncleanShutdown
    /// Not a data directory, or the control file cannot be read.
    case unknown

    /// Decides from what was observed, as repmgr's `_do_node_status_is_shutdown_cleanly`.
    /// - Parameters:
    ///   - answering: the server answered `PQping` (ok or reject).
    ///   - control: the parsed `pg_controldata` output, `nil` when it could not be read.
    public static func evaluate(answering: Bool, control: ControlData?) -> ShutdownState {
        guard let control, let checkpoint = control.checkpointLocation, control.state != .unknown else { return .unknown }
        if control.state.isCleanShutdown { return answering ? .up : .down(lastCheckpoint: checkpoint) }
        if !answering { return .uncleanShutdown }
        return control.state == .shuttingDown ? .shuttingDown : .up
    }

    /// The output line, e.g. `--state=DOWN --last-checkpoint-lsn=0/3000028`.
    public var line: String {
        switch self {
        case .up: "--state=UP"
        case .shuttingDown: "--state=SHUTTING_DOWN"
        case .down(let lsn): "--state=DOWN --last-checkpoint-lsn=\(lsn)"
        case .uncleanShutdown: "--state=UNCLEAN_SHUTDOWN"
        case .unknown: "--state=UNKNOWN"
        }
    }

    /// Parses an output line (the last line of `text` that starts with `--state=`); `nil` when none does.
    public init?(parsing text: String) {
        guard let line = text.split(whereSeparator: \.isNewline).last(where: { $0.hasPrefix("--state=") }) else { return nil }
        var state = ""
        var lsn: LSN?
        for word in line.split(separator: " ") {
            if word.hasPrefix("--state=") { state = String(word.dropFirst("--state=".count)) }
            if word.hasPrefix("--last-checkpoint-lsn=") { lsn = LSN(String(word.dropFirst("--last-checkpoint-lsn=".count))) }
        }
        switch state {
        case "UP": self = .up
        case "SHUTTING_DOWN": self = .shuttingDown
        case "DOWN":
            guard let lsn else { return nil }
            self = .down(lastCheckpoint: lsn)
        case "UNCLEAN_SHUTDOWN": self = .uncleanShutdown
        case "UNKNOWN": self = .unknown
        default: return nil
        }
    }
}

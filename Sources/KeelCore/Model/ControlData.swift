/// What `pg_controldata` prints about a data directory (run with `LC_ALL=C`), parsed into the fields
/// Keel's topology operations need: `node rejoin` (timeline, position, whether pg_rewind can run) and
/// `node status --is-shutdown-cleanly` (repmgr's `get_db_state` / `get_latest_checkpoint_location`).
/// Pure: the caller runs the program and hands over its output.
public struct ControlData: Sendable, Equatable {
    /// `Database cluster state`, as PostgreSQL words it.
    public enum State: String, Sendable, Equatable {
        case startingUp = "starting up"
        case shutDown = "shut down"
        case shutDownInRecovery = "shut down in recovery"
        case shuttingDown = "shutting down"
        case inCrashRecovery = "in crash recovery"
        case inArchiveRecovery = "in archive recovery"
        case inProduction = "in production"
        case unknown

        /// True for `shut down` and `shut down in recovery`: the server stopped cleanly, its last
        /// checkpoint is the end of its WAL (a primary) or its last restartpoint (a standby).
        public var isCleanShutdown: Bool { self == .shutDown || self == .shutDownInRecovery }
    }

    /// Every `label: value` line, by label.
    public var fields: [String: String]

    /// Parses `pg_controldata` output. Lines without `:` are ignored; the label is what precedes the first `:`.
    public init(parsing text: String) {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let label = line[..<colon].trimmingSpaces()
            let value = line[line.index(after: colon)...].trimmingSpaces()
            fields[label] = value
        }
        self.fields = fields
    }

    /// `Database cluster state` (`.unknown` when missing or not one of PostgreSQL's words).
    public var state: State { fields["Database cluster state"].flatMap(State.init(rawValue:)) ?? .unknown }
    /// `Database system identifier`.
    public var systemIdentifier: String? { fields["Database system identifier"] }
    /// `Latest checkpoint location`: where the last checkpoint (or restartpoint) record starts.
    public var checkpointLocation: LSN? { fields["Latest checkpoint location"].flatMap(LSN.init) }
    /// `Latest checkpoint's REDO location`.
    public var redoLocation: LSN? { fields["Latest checkpoint's REDO location"].flatMap(LSN.init) }
    /// `Latest checkpoint's TimeLineID`.
    public var checkpointTimeline: Int? { fields["Latest checkpoint's TimeLineID"].flatMap { Int($0) } }
    /// `Minimum recovery ending location` (`0/0` on a primary).
    public var minRecoveryEndLocation: LSN? { fields["Minimum recovery ending location"].flatMap(LSN.init) }
    /// `Min recovery ending loc's timeline` (0 on a primary).
    public var minRecoveryEndTimeline: Int? { fields["Min recovery ending loc's timeline"].flatMap { Int($0) } }
    /// `wal_log_hints setting` is `on`.
    public var walLogHints: Bool { fields["wal_log_hints setting"] == "on" }
    /// `Data page checksum version` is not 0 (data checksums are enabled).
    public var dataChecksums: Bool { (fields["Data page checksum version"].flatMap { Int($0) } ?? 0) != 0 }

    /// pg_rewind works on this data directory: it needs `wal_log_hints = on` or data checksums.
    public var rewindable: Bool { walLogHints || dataChecksums }

    /// The timeline this data directory's WAL ends on: the later of the checkpoint's and the minimum
    /// recovery point's timeline.
    public var timeline: Int? {
        guard let checkpoint = checkpointTimeline else { return nil }
        return max(checkpoint, minRecoveryEndTimeline ?? 0)
    }

    /// The first WAL position this data directory does not hold for certain, for the timeline check of
    /// `node rejoin` when the server stopped cleanly: just past the start of the last checkpoint record
    /// (a node whose checkpoint starts at a fork point has diverged), or the minimum recovery point when
    /// that is later (a standby shut down in recovery). `nil` when the control file does not say.
    public var cleanEndPosition: LSN? {
        guard let checkpoint = checkpointLocation else { return nil }
        return max(LSN(checkpoint.value + 1), minRecoveryEndLocation ?? .zero)
    }
}

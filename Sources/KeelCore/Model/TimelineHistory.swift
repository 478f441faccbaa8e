/// A PostgreSQL timeline history file (`pg_wal/0000000N.history`, or the `content` column of the
/// replication command `TIMELINE_HISTORY N`): one line per ancestor timeline, `parentTLI<TAB>switchpoint<TAB>reason`,
/// saying that timeline `parentTLI` ended (forked off) at `switchpoint`. Comments (`#`) and blank lines are skipped.
public struct TimelineHistory: Sendable, Equatable {
    /// One ancestor timeline and the LSN where its successor forked off.
    public struct Entry: Sendable, Equatable {
        /// The ancestor timeline ID.
        public var timeline: Int
        /// The first LSN that is no longer on `timeline` (where the next timeline begins).
        public var switchpoint: LSN
        /// The free-text reason PostgreSQL wrote ("no recovery target specified" …).
        public var reason: String

        /// Makes an entry.
        public init(timeline: Int, switchpoint: LSN, reason: String = "") {
            self.timeline = timeline
            self.switchpoint = switchpoint
            self.reason = reason
        }
    }

    /// The ancestors, oldest first, as in the file.
    public var entries: [Entry]

    /// Makes a history from its entries.
    public init(entries: [Entry]) { self.entries = entries }

    /// Parses a history file's text. Returns `nil` when a non-comment line is not
    /// `<timeline> <switchpoint> [reason]` (whitespace separated, switchpoint as `X/X`).
    public init?(parsing text: String) {
        var entries: [Entry] = []
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(maxSplits: 2, whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count >= 2, let timeline = Int(fields[0]), let lsn = LSN(String(fields[1])) else { return nil }
            entries.append(Entry(timeline: timeline, switchpoint: lsn,
                                 reason: fields.count > 2 ? fields[2].trimmingSpaces() : ""))
        }
        self.entries = entries
    }

    /// Where `timeline` ended according to this history (the switchpoint of its entry), or `nil` when
    /// `timeline` is not an ancestor listed here.
    public func switchpoint(of timeline: Int) -> LSN? {
        entries.first { $0.timeline == timeline }?.switchpoint
    }
}

/// Whether a standby at (`localTimeline`, `localLSN`) can stream from a node at (`targetTimeline`,
/// `targetLSN`) without rewinding: the decision of repmgr 5.3's `check_node_can_attach` (used by
/// `standby follow` and `node rejoin`). Pure: the caller reads the positions and the target's history.
public enum TimelineCheck: Sendable, Equatable {
    /// The standby's WAL is on the target's history: it can follow.
    case compatible
    /// The standby is on a later timeline than the target.
    case localTimelineAhead(local: Int, target: Int)
    /// Same timeline, but the standby has WAL beyond the target's current position.
    case localLSNAhead(local: LSN, target: LSN)
    /// The target's timeline forked off the standby's timeline at `forkPoint`, and the standby has WAL
    /// past it (it diverged, e.g. kept receiving from the old primary after the promotion).
    case forkedBeforeLocalPosition(localTimeline: Int, targetTimeline: Int, forkPoint: LSN, local: LSN)
    /// The target's history does not contain the standby's timeline: the histories are unrelated.
    case timelineNotInHistory(localTimeline: Int, targetTimeline: Int)

    /// Decides. `targetHistory` is the target's history file for `targetTimeline`; it is only needed
    /// (and only read) when `targetTimeline > localTimeline`, and `nil` there means "could not be read",
    /// treated as `timelineNotInHistory`.
    public static func evaluate(localTimeline: Int, localLSN: LSN, targetTimeline: Int, targetLSN: LSN,
                                targetHistory: TimelineHistory?) -> TimelineCheck {
        if localTimeline > targetTimeline { return .localTimelineAhead(local: localTimeline, target: targetTimeline) }
        if localTimeline == targetTimeline {
            return localLSN > targetLSN ? .localLSNAhead(local: localLSN, target: targetLSN) : .compatible
        }
        guard let forkPoint = targetHistory?.switchpoint(of: localTimeline) else {
            return .timelineNotInHistory(localTimeline: localTimeline, targetTimeline: targetTimeline)
        }
        if localLSN > forkPoint {
            return .forkedBeforeLocalPosition(localTimeline: localTimeline, targetTimeline: targetTimeline,
                                              forkPoint: forkPoint, local: localLSN)
        }
        return .compatible
    }

    /// True for `.compatible`.
    public var isCompatible: Bool { self == .compatible }

    /// One sentence describing why the standby cannot follow (empty for `.compatible`), in repmgr's words.
    public var explanation: String {
        switch self {
        case .compatible:
            return ""
        case let .localTimelineAhead(local, target):
            return "this node's timeline (\(local)) is ahead of the follow target's timeline (\(target))"
        case let .localLSNAhead(local, target):
            return "this node is ahead of the follow target: local position \(local), follow target position \(target) on the same timeline"
        case let .forkedBeforeLocalPosition(localTimeline, targetTimeline, forkPoint, local):
            return "follow target's timeline \(targetTimeline) forked off this node's timeline \(localTimeline) at \(forkPoint), before this node's position \(local)"
        case let .timelineNotInHistory(localTimeline, targetTimeline):
            return "this node's timeline \(localTimeline) is not in the history of the follow target's timeline \(targetTimeline)"
        }
    }
}

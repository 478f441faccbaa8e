/// What the consensus store says about one node's `keel service pause` (`<prefix>paused/<id>`).
public enum StoredPause: Sendable, Equatable {
    /// The key says `paused`.
    case paused
    /// The key says `unpaused`.
    case unpaused
    /// No key (or one that is neither word): the store has nothing to say.
    case absent
    /// The store did not answer (the reason, for the log).
    case unreachable(String)

    /// The state a key's `value` holds (`paused`, `unpaused`; anything else is `absent`).
    public init(value: String?) {
        switch value {
        case "paused": self = .paused
        case "unpaused": self = .unpaused
        default: self = .absent
        }
    }

    /// The value written for `paused`.
    public static func value(_ paused: Bool) -> String { paused ? "paused" : "unpaused" }
}

/// Whether keeld is paused when a consensus store is set: the store's key, when it holds one, is the last
/// `keel service pause|unpause` (each writes it, also with the primary down, when the metadata flag cannot be
/// written); without a key, or when the store does not answer, the metadata flag (`repmgr.keel_daemon.paused`).
public enum PauseRule {
    /// The pause in force for a node whose metadata flag is `metadata` and whose key in the store is `stored`.
    public static func isPaused(metadata: Bool, stored: StoredPause) -> Bool {
        switch stored {
        case .paused: true
        case .unpaused: false
        case .absent, .unreachable: metadata
        }
    }
}

extension DCSSettings {
    /// The pause key of node `id`.
    public func pauseKey(_ id: Int) -> String { prefix + "paused/\(id)" }

    /// The prefix of every pause key.
    public var pausePrefix: String { prefix + "paused/" }
}

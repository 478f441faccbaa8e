import KeelCore

/// `keel service pause|unpause` in the consensus store: one key per node, `<prefix>paused/<id>` =
/// `paused`|`unpaused`, without a lease (it outlives every keeld, as the metadata flag does). Each call is
/// bounded by the store's deadline.
public enum PauseKeys {
    /// Writes the pause state of each of `nodeIDs`. Throws `DCSError` (naming the endpoints tried) at the
    /// first key that could not be written.
    public static func write(_ paused: Bool, nodeIDs: [Int], store: ConsensusStore, settings: DCSSettings) throws {
        for id in nodeIDs {
            try store.put(settings.pauseKey(id), value: StoredPause.value(paused), lease: 0)
        }
    }

    /// Every node's key (nodes without one are absent from the result). Throws `DCSError`.
    public static func read(store: ConsensusStore, settings: DCSSettings) throws -> [Int: StoredPause] {
        var result: [Int: StoredPause] = [:]
        for kv in try store.list(prefix: settings.pausePrefix) {
            if let id = Int(kv.key.dropFirst(settings.pausePrefix.count)) { result[id] = StoredPause(value: kv.value) }
        }
        return result
    }

    /// The pause in force for each of `metadata`'s nodes (node ID → metadata flag), the store read once; when it
    /// does not answer, the metadata flags and the reason.
    public static func effective(metadata: [Int: Bool], store: ConsensusStore, settings: DCSSettings) -> (paused: [Int: Bool], failure: String?) {
        do {
            let stored = try read(store: store, settings: settings)
            return (metadata.reduce(into: [:]) { $0[$1.key] = PauseRule.isPaused(metadata: $1.value, stored: stored[$1.key] ?? .absent) }, nil)
        } catch {
            return (metadata, "\(error)")
        }
    }
}

/// What one attempt to hold or win the leader key in the consensus store showed: the only thing the
/// failover core knows of the store.
public enum LeaderObservation: Sendable, Equatable {
    /// This node holds the key under a live lease, renewed by a request sent at `sentAt` (monotonic
    /// seconds): the store's lease cannot expire before `sentAt + dcs_ttl`.
    case held(sentAt: Double)
    /// Another node holds the key.
    case heldBy(nodeID: Int)
    /// The store could not be asked (every endpoint failed or timed out), or answered an error.
    case unavailable(reason: String)
}

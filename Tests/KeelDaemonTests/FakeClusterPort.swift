import KeelCore
@testable import KeelDaemon

/// A clock the tests move.
final class FakeClock {
    var now = 0.0
}

/// A cluster of three data nodes and no witness, as the standby side of keeld sees it: alpha (1) the
/// primary, bravo (2) this node, charlie (3) a sibling, delta (4) a node that may turn up as primary.
/// Tests change the world (`upstreamUp`, `primaries`, …) and read back what keeld did.
final class FakeClusterPort: ClusterPort {
    let clock: FakeClock
    var settings: FailoverSettings
    var local: LocalState? = LocalState(inRecovery: true, paused: false)
    /// Whether alpha (1) answers.
    var upstreamUp = true
    /// The node this standby follows (alpha until a follow succeeds).
    private(set) var upstreamID = 1
    /// Successful promotions.
    private(set) var promotions = 0
    /// Gathering the election fails while set (the reason).
    var gatherFailure: String?
    /// charlie's LSN: above bravo's (0x5000) it wins, below it loses.
    var charlieLSN: UInt64 = 0x4000
    /// charlie reachable for the election (false: no quorum with 2 standbys → cancelled).
    var charlieReachable = true
    var siblingsStopped = false
    /// Nodes running as primary (besides the upstream when `upstreamUp`).
    var primaries: Set<Int> = []
    var primaryConninfo: String? = "host=alpha port=5432 user=repmgr"
    var conninfoWritable = true
    var validationAllows = true
    var promoteSucceeds = true
    var followSucceeds = true

    private(set) var actions: [String] = []
    private(set) var events: [EventName] = []
    private(set) var logs: [(LogLevel, String)] = []
    private(set) var checks: [Double] = []
    private(set) var gathers: [Double] = []

    init(settings: FailoverSettings, clock: FakeClock) {
        self.settings = settings
        self.clock = clock
    }

    func localState() -> LocalState? { local }

    func checkUpstream() -> Bool {
        checks.append(clock.now)
        return upstreamID == 1 ? upstreamUp : primaries.contains(upstreamID)
    }

    func afterHealthyCheck(paused: Bool) {}

    func gatherElection(now: Double) -> Result<ElectionInput, PortFailure> {
        gathers.append(now)
        if let gatherFailure { return .failure(PortFailure(reason: gatherFailure)) }
        let primary = PeerView(nodeID: 1, name: "alpha", type: .primary, location: "default", reachable: upstreamUp,
                               isInRecovery: upstreamUp ? false : nil)
        let me = Self.standby(2, lsn: 0x5000)
        var charlie = Self.standby(3, lsn: charlieLSN)
        if !charlieReachable { charlie = PeerView(nodeID: 3, name: "charlie", type: .standby, upstreamNodeID: 1, reachable: false) }
        var peers = [primary, charlie]
        for id in primaries.sorted() where id != 3 {
            peers.append(PeerView(nodeID: id, name: "delta", type: .standby, upstreamNodeID: 1, reachable: true, isInRecovery: false,
                                  lastReceivedLSN: LSN(0x6000)))
        }
        return .success(ElectionInput(now: now, me: me, lostPrimary: primary, peers: peers, term: 7))
    }

    static func standby(_ id: Int, lsn: UInt64) -> PeerView {
        PeerView(nodeID: id, name: id == 2 ? "bravo" : "charlie", type: .standby, upstreamNodeID: 1, reachable: true,
                 isInRecovery: true, lastReceivedLSN: LSN(lsn))
    }

    func siblingsReceiversStopped() -> Bool { siblingsStopped }

    func primary(among ids: [Int]?, excluding: Set<Int>) -> Int? {
        var running = primaries
        if upstreamUp { running.insert(1) }
        return running.subtracting(excluding).filter { ids?.contains($0) ?? true }.sorted().first
    }

    func currentPrimaryConninfo() -> String? { primaryConninfo }

    func setPrimaryConninfo(_ conninfo: String) -> Bool {
        guard conninfoWritable else { return false }
        actions.append(conninfo.isEmpty ? "stop WAL receiver" : "start WAL receiver")
        primaryConninfo = conninfo
        return true
    }

    func runValidation(_ context: ValidationContext) async -> (Bool, String?) {
        actions.append("validate")
        return validationAllows ? (true, nil) : (false, "vetoed by the test")
    }

    /// With a consensus store: why the leader key was not won (`nil`: won).
    var claimRefusal: String?
    /// `actions.count` when each claim was made (claims are not actions of a cluster without a store).
    private(set) var claims: [Int] = []

    func claimLeadership() async -> String? {
        claims.append(actions.count)
        return claimRefusal
    }

    func promote(term: Int) async -> (Bool, String) {
        actions.append("promote \(term)")
        if promoteSucceeds { local?.inRecovery = false; promotions += 1 }
        return promoteSucceeds ? (true, "promoted") : (false, "promote_command failed")
    }

    func follow(_ primaryID: Int) async -> (Bool, String) {
        actions.append("follow \(primaryID)")
        if followSucceeds { primaryConninfo = "host=node\(primaryID)"; upstreamID = primaryID }
        return followSucceeds ? (true, "following") : (false, "follow_command failed")
    }

    func notify(_ event: EventName, success: Bool, details: String) { events.append(event) }

    func log(_ level: LogLevel, _ message: String) { logs.append((level, message)) }
}

/// `DaemonFacts` in memory, surviving the driver (a restart keeps the store, as the file would).
final class MemoryFacts: FactsStore {
    var stored: DaemonFacts?
    func load() -> DaemonFacts? { stored }
    func save(_ facts: DaemonFacts) -> Bool {
        stored = facts.isEmpty ? nil : facts
        return true
    }
}

import KeelCore

/// What the standby side of keeld observes and does, behind a protocol so that its loop
/// (`StandbyDriver`) is tested without PostgreSQL. Every call ends by a deadline: the PostgreSQL port's
/// connections carry `ConnectionDeadlines`, its hooks their timeouts. Failures come back as values
/// (`nil`, `false`, a reason), never as a hang; the driver turns each into a `MonitorEvent`.
protocol ClusterPort: AnyObject {
    /// The failover settings of the configuration in force (it changes on SIGHUP).
    var settings: FailoverSettings { get }
    /// The local server: `nil` when it does not answer.
    func localState() -> LocalState?
    /// One upstream check by `connection_check_type`; true when reachable.
    func checkUpstream() -> Bool
    /// After a healthy check: heartbeat and `monitoring_history` on the primary (failures are logged).
    func afterHealthyCheck(paused: Bool)
    /// Every registered node's view and the voting term, or why they could not be read.
    func gatherElection(now: Double) -> Result<ElectionInput, PortFailure>
    /// True when no reachable sibling (a standby sharing this node's upstream) has a WAL receiver streaming.
    func siblingsReceiversStopped() -> Bool
    /// A node among `ids` (`nil` = every registered node) running as primary, `excluding` some.
    func primary(among ids: [Int]?, excluding: Set<Int>) -> Int?
    /// This standby's `primary_conninfo`, or `nil` when it cannot be read.
    func currentPrimaryConninfo() -> String?
    /// Sets `primary_conninfo` (empty: stops the WAL receiver) and reloads; false on failure.
    func setPrimaryConninfo(_ conninfo: String) -> Bool
    /// `failover_validation_command` (allowed, reason).
    func runValidation(_ context: ValidationContext) async -> (Bool, String?)
    /// With a consensus store (`dcs`): wins the leader key before a promotion, retrying while the lost
    /// primary's lease may still run (`ClaimRule`). `nil` = this node may promote; else why it may not.
    func claimLeadership() async -> String?
    /// `promote_command` or Keel's own promote (succeeded, detail).
    func promote(term: Int) async -> (Bool, String)
    /// `follow_command` or Keel's own follow (succeeded, detail).
    func follow(_ primaryID: Int) async -> (Bool, String)
    /// Records an event and queues its notification (never runs the notification inline).
    func notify(_ event: EventName, success: Bool, details: String)
    /// A log line.
    func log(_ level: LogLevel, _ message: String)
}

extension ClusterPort {
    /// Without a consensus store the election alone decides.
    func claimLeadership() async -> String? { nil }
}

/// What the local server says about itself.
struct LocalState: Sendable, Equatable {
    /// `pg_is_in_recovery()`.
    var inRecovery: Bool
    /// `keel service pause` is in force for this node.
    var paused: Bool
}

/// Why a port call failed, in words for the log and the event.
struct PortFailure: Error, Sendable, Equatable {
    var reason: String
}

/// Where `DaemonFacts` are kept.
protocol FactsStore: AnyObject {
    /// The stored facts; `nil` when there are none (or the file is unreadable: logged by the store).
    func load() -> DaemonFacts?
    /// Stores `facts` (atomically); an empty value removes them. False when it could not be written.
    @discardableResult
    func save(_ facts: DaemonFacts) -> Bool
}

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelDCS
import KeelOps
import KeelPostgres
import Logging

/// What every part of keeld shares: the current configuration (replaced on SIGHUP), the logger, the
/// notification queue, and helpers to reach the primary and record events. Used from the monitoring
/// task only, except `config`, which the reload task replaces under a lock.
public final class DaemonRuntime: @unchecked Sendable {
    private let lock = Lock()
    private var currentConfig: KeelConfig
    public let logger: Logger
    public let pid = Int(getpid())
    public let host = ProcessInfo.processInfo.hostName
    /// Monotonic clock origin: `now` is seconds since keeld started.
    private let origin = ContinuousClock.now
    public private(set) var notifications: NotificationQueue!
    /// keeld's hooks (shell and Lua; the process's one Lua VM). Events a Lua hook records with `keel.event`
    /// are notified through `notifications`.
    public let hooks = HookRunner()
    /// keeld's Prometheus metrics (`GET /metrics`).
    public let metrics = KeelMetrics()
    /// When the monitoring loop last ran and how long it then meant to sleep (`/liveness`).
    private var loopBeat: (at: Double, sleep: Double)?
    /// The consensus-store session (`dcs`), made on first use; it outlives the role's monitors, so that a
    /// standby that won the leader key keeps its lease as it becomes the primary.
    private var consensusSession: LeaderSession?

    public init(config: KeelConfig, logger: Logger) {
        self.currentConfig = config
        self.logger = logger
        notifications = NotificationQueue(logger: logger) { [unowned self] in EventWriter(context: self.opsContext()) }
        hooks.setNotifier { [weak self] record, primary in self?.notifications.enqueue(record, primary: primary) }
        hooks.setObserver { [metrics] point, outcome in metrics.recordHook(point, outcome) }
    }

    /// The configuration in force.
    public var config: KeelConfig { lock.withLock { currentConfig } }

    /// Installs a reloaded configuration (the caller has validated it).
    public func replaceConfig(_ config: KeelConfig) { lock.withLock { currentConfig = config } }

    /// The consensus-store session when `dcs` is set (`nil` otherwise). `dcs` is read at start only.
    public var consensus: LeaderSession? {
        lock.withLock {
            if let consensusSession { return consensusSession }
            guard let settings = DCSSettings(config: currentConfig) else { return nil }
            let origin = self.origin
            let session = LeaderSession(store: EtcdStore(settings), settings: settings, nodeID: currentConfig.nodeID, clock: {
                let d = ContinuousClock.now - origin
                return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            })
            consensusSession = session
            return session
        }
    }

    /// Seconds on the monotonic clock since keeld started.
    public var now: Double {
        let d = ContinuousClock.now - origin
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// An operation context for in-process operations (promote, follow) and events.
    /// Their event notifications are queued (`notifications`), never run inline.
    public func opsContext() -> OpsContext {
        var context = OpsContext(config: config, logger: logger, hooks: hooks)
        context.notifier = { [weak self] record, primary in
            if let name = EventName(rawValue: record.event) { self?.metrics.recordEvent(name, success: record.successful) }
            self?.notifications.enqueue(record, primary: primary)
        }
        context.deadlines = deadlines
        return context
    }

    /// The deadlines of keeld's connections, derived from the configuration in force
    /// (`ConnectionDeadlines`: connect, query, `statement_timeout`, keepalives, `tcp_user_timeout`).
    public var deadlines: ConnectionDeadlines { ConnectionDeadlines(config: config) }

    /// keeld's one way to connect: every connection it opens, and every query on it, is bounded by
    /// `deadlines`. Throws `PostgresError` (`.connection`).
    public func connect(_ conninfo: String) throws(PostgresError) -> Connection {
        try Connection(conninfo: conninfo, deadlines: deadlines)
    }

    /// `connect`, quietly; `nil` when it fails.
    public func tryConnect(_ conninfo: String) -> Connection? {
        try? connect(conninfo)
    }

    /// `PQping` bounded by `deadlines`.
    public func ping(_ conninfo: String) -> Connection.PingResult {
        Connection.ping(conninfo, deadlines: deadlines)
    }

    /// Records `event` for this node: the row through `connection` (the primary) when given, then the
    /// notification, queued off the monitoring loop.
    public func event(_ event: EventName, success: Bool = true, details: String, on connection: Connection?,
                      primary: NodeRecord? = nil) {
        metrics.recordEvent(event, success: success)
        let writer = EventWriter(context: opsContext())
        let record = writer.write(event, successful: success, details: details, on: connection)
        notifications.enqueue(record, primary: primary)
    }

    /// Records `event` entirely off the monitoring loop: the notification queue's worker finds the primary
    /// of the moment (this node when it is one, else the reachable node running as primary), writes the row
    /// there — every call bounded by `deadlines` — and then runs the notification.
    public func eventOffLoop(_ event: EventName, success: Bool = true, details: String, primary: NodeRecord? = nil) {
        metrics.recordEvent(event, success: success)
        notifications.enqueue(named: event.rawValue, primary: primary) { [self] in
            EventWriter(context: opsContext()).write(event, successful: success, details: details, on: primaryForEvents())
        }
    }

    /// Where event rows go: this node when it runs as primary, else the reachable primary (`PrimaryFinder`).
    private func primaryForEvents() -> Connection? {
        guard let local = tryConnect(config.conninfo) else { return nil }
        if (try? ServerInfo.read(local))?.isInRecovery == false { return local }
        let nodes = (try? MetadataStore(connection: local).nodes()) ?? []
        return PrimaryFinder.find(nodes.filter { $0.nodeID != config.nodeID }, deadlines: deadlines)?.1
    }

    /// Records that the monitoring loop ran and now sleeps `seconds` (read by `/liveness`).
    public func loopRan(sleepingFor seconds: Double) {
        let at = now
        lock.withLock { loopBeat = (at, seconds) }
    }

    /// Whether the monitoring loop ran within two monitoring intervals (after its planned sleep).
    public var loopAlive: Bool {
        let beat = lock.withLock { loopBeat }
        return LoopLiveness.isAlive(now: now, lastRan: beat?.at, plannedSleep: beat?.sleep ?? 0,
                                    interval: Double(config.monitorIntervalSecs))
    }

    /// Sleeps `seconds` (never negative); throws `CancellationError` when keeld is stopping.
    public func sleep(_ seconds: Double) async throws {
        loopRan(sleepingFor: seconds)
        try await Task.sleep(for: .milliseconds(Int(max(0, seconds) * 1000)))
    }
}

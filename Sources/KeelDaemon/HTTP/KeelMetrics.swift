import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import KeelCore
import KeelOps
import Prometheus

/// keeld's Prometheus metrics (`GET /metrics`): counters kept as things happen (events, failovers, hook
/// calls and durations, notifications), gauges read at scrape time (role, timeline, lag, fence, RSS).
public final class KeelMetrics: @unchecked Sendable {
    let registry = PrometheusCollectorRegistry()
    private let lock = DispatchQueue(label: "keeld.metrics")
    private var reportedQueued = 0
    private var reportedDropped = 0

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "keel", metricName: metric, unitName: unit, helpText: help)
    }

    static let hookBuckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100),
                                          .milliseconds(500), .seconds(1), .seconds(5), .seconds(30)]

    /// A registry with every series of fixed labels present from the start (at 0).
    public init() {
        for outcome in ["promoted", "followed", "aborted"] { _ = election(outcome) }
        _ = registry.makeCounter(descriptor: Self.name("failovers", "total", "promotions of this node by keeld's failover"))
        _ = registry.makeGauge(descriptor: Self.name("last_failover", "timestamp_seconds", "when keeld last promoted this node (Unix time, 0 = never)"))
        _ = notifications("queued")
        _ = notifications("dropped")
    }

    private func election(_ outcome: String) -> Counter {
        registry.makeCounter(descriptor: Self.name("failover_elections", "total", "failovers this node's keeld took part in, by outcome"),
                             labels: [("outcome", outcome)])
    }

    private func notifications(_ what: String) -> Counter {
        registry.makeCounter(descriptor: Self.name("notifications", "total", "event notifications queued, and dropped because the queue was full"),
                             labels: [("state", what)])
    }

    /// Counts `event` recorded by this keeld (and failovers and their time).
    public func recordEvent(_ event: EventName, success: Bool) {
        registry.makeCounter(descriptor: Self.name("events", "total", "events recorded by this keeld"),
                             labels: [("event", event.rawValue), ("successful", success ? "true" : "false")]).increment()
        switch event {
        case .failoverPromote where success:
            election("promoted").increment()
            registry.makeCounter(descriptor: Self.name("failovers", "total", "promotions of this node by keeld's failover")).increment()
            registry.makeGauge(descriptor: Self.name("last_failover", "timestamp_seconds", "when keeld last promoted this node (Unix time, 0 = never)"))
                .set(to: Self.unixTime())
        case .failoverFollow: election("followed").increment()
        case .failoverAborted: election("aborted").increment()
        default: break
        }
    }

    /// Counts a hook call of `point` and records its duration.
    public func recordHook(_ point: HookPoint, _ outcome: HookOutcome) {
        registry.makeCounter(descriptor: Self.name("hook_calls", "total", "hook calls by hook point and result"),
                             labels: [("point", point.key), ("result", outcome.succeeded ? "ok" : "failed")]).increment()
        registry.makeDurationHistogram(descriptor: Self.name("hook_duration", "seconds", "hook call durations by hook point"),
                                       labels: [("point", point.key)], buckets: Self.hookBuckets)
            .record(.milliseconds(Int64(outcome.seconds * 1000)))
    }

    /// The exposition text, with the scrape-time gauges set from `state`, `fenced` and the queue.
    func render(state: LocalServerState, fenced: Bool, queued: Int, dropped: Int) -> String {
        let role = state.problem != nil ? "unknown" : (state.inRecovery ? "standby" : "primary")
        for candidate in ["primary", "standby", "unknown"] {
            registry.makeGauge(descriptor: Self.name("role", "info", "this node's role now (1 for the current one)"),
                               labels: [("role", candidate)]).set(to: candidate == role ? 1 : 0)
        }
        gauge("postgres_up", "bool", "PostgreSQL answered the scrape's query").set(to: state.problem == nil ? 1 : 0)
        gauge("fenced", "bool", "this node is fenced").set(to: fenced ? 1 : 0)
        gauge("timeline", "id", "the timeline this node runs on (0 = unknown)").set(to: Double(state.timeline ?? 0))
        gauge("replication_lag", "bytes", "bytes between the upstream's WAL end and this standby's replay (0 on a primary)")
            .set(to: Double(state.lagBytes ?? 0))
        gauge("replication_lag", "seconds", "seconds since the last replayed commit when replay is behind (0 on a primary)")
            .set(to: state.lagSeconds ?? 0)
        gauge("resident_memory", "bytes", "keeld's resident set size").set(to: Double(Self.residentBytes()))
        let (newQueued, newDropped): (Int, Int) = lock.sync {
            defer { reportedQueued = max(reportedQueued, queued); reportedDropped = max(reportedDropped, dropped) }
            return (max(0, queued - reportedQueued), max(0, dropped - reportedDropped))
        }
        notifications("queued").increment(by: Int64(newQueued))
        notifications("dropped").increment(by: Int64(newDropped))
        return registry.emitToString()
    }

    private func gauge(_ metric: String, _ unit: String, _ help: String) -> Gauge {
        registry.makeGauge(descriptor: Self.name(metric, unit, help))
    }

    /// Seconds since 1970 (wall clock).
    static func unixTime() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// Resident set size from `/proc/self/statm` (0 when unreadable).
    static func residentBytes() -> Int {
        let fd = open("/proc/self/statm", O_RDONLY)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return 0 }
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

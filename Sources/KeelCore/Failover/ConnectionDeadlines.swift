/// The deadlines of keeld's connections, derived from the monitoring settings so that a frozen host
/// (SIGSTOP), a hung filesystem or a silent partition is noticed within the same window as a crash.
///
/// With `I` = `monitor_interval_secs` and `R` = `reconnect_interval` (seconds):
///
/// - call deadline `T = clamp(min(I, R), 1, 60)`: one check must end before the next is due, so the
///   reconnection attempts stay `R` apart;
/// - connect: the client gives up after `T` (a nonblocking connect polled against the deadline);
///   `connect_timeout = max(2, ⌈T⌉)` is also passed, libpq's own floor being 2 s;
/// - `statement_timeout = 0.8 × T` (the server cancels a slow query itself, keeping the connection);
/// - query: the client gives up after `T` and drops the connection (a frozen server never answers a
///   cancel either), so a call never holds the loop longer than `T`;
/// - TCP keepalives on: `keepalives_idle = ⌈T⌉`, `keepalives_interval = ⌈T/2⌉` (at least 1),
///   `keepalives_count = 3`, and `tcp_user_timeout` = that same dead-peer window
///   (`idle + interval × count` seconds, in ms), so an idle kept connection (the upstream watcher,
///   the cached primary) fails on a silent partition instead of waiting for the kernel's hours.
///
/// Pure: no clock and no I/O; `KeelPostgres` applies the values.
public struct ConnectionDeadlines: Sendable, Equatable {
    /// Seconds a connection attempt may take, on the client's clock.
    public var connect: Double
    /// Seconds one query may take, on the client's clock; after that the connection is dropped.
    public var query: Double
    /// `statement_timeout`, milliseconds.
    public var statementTimeoutMs: Int
    /// `connect_timeout`, whole seconds (libpq ignores values below 2).
    public var connectTimeoutSecs: Int
    /// `keepalives_idle`, seconds.
    public var keepalivesIdle: Int
    /// `keepalives_interval`, seconds.
    public var keepalivesInterval: Int
    /// `keepalives_count`.
    public var keepalivesCount: Int
    /// `tcp_user_timeout`, milliseconds.
    public var tcpUserTimeoutMs: Int

    /// Explicit deadlines (tests); keeld derives them with `init(monitorInterval:reconnectInterval:)`.
    public init(connect: Double, query: Double, statementTimeoutMs: Int, connectTimeoutSecs: Int, keepalivesIdle: Int,
                keepalivesInterval: Int, keepalivesCount: Int, tcpUserTimeoutMs: Int) {
        self.connect = connect
        self.query = query
        self.statementTimeoutMs = statementTimeoutMs
        self.connectTimeoutSecs = connectTimeoutSecs
        self.keepalivesIdle = keepalivesIdle
        self.keepalivesInterval = keepalivesInterval
        self.keepalivesCount = keepalivesCount
        self.tcpUserTimeoutMs = tcpUserTimeoutMs
    }

    /// The deadlines for `monitor_interval_secs` and `reconnect_interval` (seconds), by the formula above.
    public init(monitorInterval: Double, reconnectInterval: Double) {
        let t = Self.callDeadline(monitorInterval: monitorInterval, reconnectInterval: reconnectInterval)
        let idle = Int(t.rounded(.up))
        let interval = max(1, Int((t / 2).rounded(.up)))
        let count = 3
        self.init(connect: t, query: t, statementTimeoutMs: Int((t * 800).rounded()),
                  connectTimeoutSecs: max(2, idle), keepalivesIdle: idle, keepalivesInterval: interval,
                  keepalivesCount: count, tcpUserTimeoutMs: (idle + interval * count) * 1000)
    }

    /// The deadlines of a loaded configuration.
    public init(config: KeelConfig) {
        self.init(monitorInterval: Double(config.monitorIntervalSecs), reconnectInterval: Double(config.reconnectInterval))
    }

    /// `T = clamp(min(I, R), 1, 60)` seconds; a non-positive setting counts as 1.
    public static func callDeadline(monitorInterval: Double, reconnectInterval: Double) -> Double {
        let candidates = [monitorInterval, reconnectInterval].filter { $0 > 0 }
        return min(60, max(1, candidates.min() ?? 1))
    }

    /// Seconds after which an idle connection to a silent peer fails (`tcp_user_timeout`).
    public var deadPeerWindow: Double { Double(tcpUserTimeoutMs) / 1000 }

    /// The conninfo keywords to add (any the operator set in the conninfo win: they are only added when
    /// absent). `statement_timeout` goes through `options` unless `options` is already set, in which case
    /// the caller sets it after connecting.
    public func conninfoParameters(existing keywords: Set<String>) -> [(keyword: String, value: String)] {
        var pairs: [(keyword: String, value: String)] = [
            ("connect_timeout", String(connectTimeoutSecs)),
            ("keepalives", "1"),
            ("keepalives_idle", String(keepalivesIdle)),
            ("keepalives_interval", String(keepalivesInterval)),
            ("keepalives_count", String(keepalivesCount)),
            ("tcp_user_timeout", String(tcpUserTimeoutMs)),
            ("options", "-c statement_timeout=\(statementTimeoutMs)"),
        ]
        pairs.removeAll { keywords.contains($0.keyword) }
        return pairs
    }
}

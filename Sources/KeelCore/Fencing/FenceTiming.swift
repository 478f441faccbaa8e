/// When an isolated primary fences, and why that is before any standby can be promoted. Pure arithmetic,
/// seconds as `Double`.
///
/// A standby deems its primary lost after `reconnect_attempts` failed checks spaced by
/// `reconnect_interval`, the first of which may come at the very instant of the fault; the earliest
/// election (hence promotion) is therefore `D = (reconnect_attempts − 1) × reconnect_interval` after the
/// fault (`standbyDetectionWindow`).
///
/// The primary probes every node once per round; a round starts every `r = max(monitor_interval_secs,
/// c)` seconds and each probe gives up after `c = probeTimeout`. It fences once it has been isolated for
/// `T = primary_isolation_timeout` seconds, counted from the start of the last round that showed it was
/// not (a start that precedes the fault). The round that first fails ends at most `r + c` after that
/// start, and fencing (the first, fast step) takes at most `F = fenceStepTimeout`. So the fence holds at
/// most `max(T, r + c) + F` after the fault (`latestFence`), and the default
/// `T = D − r − c − F` keeps `latestFence < D` whenever `r + c + F < D` (`isSafe`).
public struct FenceTiming: Sendable, Equatable {
    /// `monitor_interval_secs`.
    public var monitorInterval: Double
    /// `reconnect_attempts` (of the standbys; the same on every node).
    public var reconnectAttempts: Int
    /// `reconnect_interval` (of the standbys).
    public var reconnectInterval: Double
    /// `primary_isolation_timeout` when set (≥ 0); `nil` = derived.
    public var configuredTimeout: Double?
    /// `c`: how long one probe of a node may take (connect and query), seconds.
    public var probeTimeout: Double
    /// `F`: how long the first fencing step (commits no longer acknowledged) may take, seconds.
    public var fenceStepTimeout: Double

    /// The deadline of one probe, seconds: libpq's `connect_timeout` is whole seconds and at least 2.
    public static let defaultProbeTimeout: Double = 2
    /// The deadline of the first fencing step (one local `ALTER SYSTEM` and a reload), seconds.
    public static let defaultFenceStepTimeout: Double = 1

    /// Timing for the given monitoring keys.
    public init(monitorInterval: Double, reconnectAttempts: Int, reconnectInterval: Double, configuredTimeout: Double? = nil,
                probeTimeout: Double = FenceTiming.defaultProbeTimeout,
                fenceStepTimeout: Double = FenceTiming.defaultFenceStepTimeout) {
        self.monitorInterval = monitorInterval
        self.reconnectAttempts = reconnectAttempts
        self.reconnectInterval = reconnectInterval
        self.configuredTimeout = configuredTimeout
        self.probeTimeout = probeTimeout
        self.fenceStepTimeout = fenceStepTimeout
    }

    /// `D`: the earliest a standby can start an election after its primary became unreachable.
    public var standbyDetectionWindow: Double { Double(max(0, reconnectAttempts - 1)) * reconnectInterval }

    /// `r`: seconds between the starts of two probe rounds.
    public var roundPeriod: Double { max(monitorInterval, probeTimeout) }

    /// The derived `primary_isolation_timeout`: `max(0, D − r − c − F)`.
    public var derivedTimeout: Double {
        max(0, standbyDetectionWindow - roundPeriod - probeTimeout - fenceStepTimeout)
    }

    /// `T`: the isolation timeout in force.
    public var isolationTimeout: Double { configuredTimeout ?? derivedTimeout }

    /// The latest the fence holds after the fault: `max(T, r + c) + F`.
    public var latestFence: Double { max(isolationTimeout, roundPeriod + probeTimeout) + fenceStepTimeout }

    /// True when the fence always holds before the earliest election (`latestFence < D`).
    public var isSafe: Bool { latestFence < standbyDetectionWindow }

    /// The warning to log at start when `isSafe` is false, naming the numbers; `nil` when safe.
    public var warning: String? {
        guard !isSafe else { return nil }
        func s(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
        return "an isolated primary may fence only \(s(latestFence)) s after losing the cluster, but a standby may start an "
            + "election after \(s(standbyDetectionWindow)) s ((reconnect_attempts − 1) × reconnect_interval); "
            + (configuredTimeout != nil && isolationTimeout > derivedTimeout
                ? "lower primary_isolation_timeout to at most \(s(derivedTimeout)) s or "
                : "")
            + "raise reconnect_attempts or reconnect_interval so that the window exceeds "
            + "\(s(roundPeriod + probeTimeout + fenceStepTimeout)) s (monitor interval + probe and fence deadlines)"
    }

    /// Whether a primary isolated since `isolatedSince` (the start of the last round that showed it was
    /// not isolated) must fence at `now`.
    public func mustFence(isolatedSince: Double, now: Double) -> Bool {
        now - isolatedSince >= isolationTimeout
    }
}

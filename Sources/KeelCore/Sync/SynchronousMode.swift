/// `synchronous_mode`: whether keeld manages synchronous replication, and the quorum it asks for.
public enum SynchronousMode: Sendable, Equatable, CustomStringConvertible {
    /// keeld leaves `synchronous_standby_names` alone and the election promotes as repmgr does.
    case off
    /// `quorum:N`: every commit waits for N standbys (`ANY N (...)`), and a failover promotes only a
    /// standby proven to hold every acknowledged commit.
    case quorum(Int)

    /// The quorum N, 0 when off.
    public var count: Int {
        switch self {
        case .off: 0
        case .quorum(let count): count
        }
    }

    /// `off` or `quorum:N`, as written in the configuration.
    public var description: String {
        switch self {
        case .off: "off"
        case .quorum(let count): "quorum:\(count)"
        }
    }

    /// Parses `off` or `quorum:N` (N ≥ 1, case-insensitive, blanks around the parts ignored).
    /// Throws a `.badConfig` error naming the key and the value.
    public static func parse(_ text: String) throws(KeelError) -> SynchronousMode {
        let value = text.trimmingWhitespace().lowercased()
        if value == "off" || value.isEmpty { return .off }
        let parts = value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2, String(parts[0]).trimmingWhitespace() == "quorum",
           let count = Int(String(parts[1]).trimmingWhitespace()), count >= 1, count <= 64 {
            return .quorum(count)
        }
        throw KeelError(.badConfig, "invalid value \"\(text)\" for \"synchronous_mode\"",
                        hint: "use off or quorum:N with N from 1 to 64 (quorum:1 = one synchronous standby)")
    }
}

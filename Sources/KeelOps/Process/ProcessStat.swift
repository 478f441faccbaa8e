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

/// The fields Keel reads from a process's `/proc/<pid>/stat` line (Linux, proc(5)): its state, its parent
/// and when it started. The command name (field 2) is in parentheses and may itself hold spaces and `)`, so
/// the fields are counted after the line's last `)`.
public struct ProcessStat: Sendable, Equatable {
    /// The state letter (field 3): `R` running, `S` sleeping, `D` disk wait, `T` stopped, `Z` zombie, `X` dead …
    public var state: Character
    /// The parent's pid (field 4).
    public var parentPID: pid_t
    /// The start time (field 22), in clock ticks after boot: with the pid, it tells a process apart from
    /// a later one that reused its pid.
    public var startTime: UInt64

    /// A zombie (ended, not yet reaped by its parent) or a dead process: it runs no more, though
    /// `kill(pid, 0)` still succeeds for a zombie.
    public var hasEnded: Bool { state == "Z" || state == "X" }

    /// Makes the fields.
    public init(state: Character, parentPID: pid_t, startTime: UInt64) {
        self.state = state
        self.parentPID = parentPID
        self.startTime = startTime
    }

    /// The stat of process `pid`; `nil` when it is gone, or where there is no `/proc`.
    public static func read(_ pid: pid_t) -> ProcessStat? {
        guard let line = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        return parse(line)
    }

    /// The fields of one stat line; `nil` when it is not one.
    public static func parse(_ line: String) -> ProcessStat? {
        guard let close = line.lastIndex(of: ")") else { return nil }
        let fields = line[line.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, fields[0].count == 1,
              let parent = pid_t(fields[1]), let started = UInt64(fields[19]) else { return nil }
        return ProcessStat(state: state, parentPID: parent, startTime: started)
    }
}

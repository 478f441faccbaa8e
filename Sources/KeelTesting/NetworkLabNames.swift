import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension NetworkLab {
    private static let counter = LabCounter()

    /// A short tag unique to this process and lab: the pid and a counter in base 36 (interface
    /// names must stay within 15 characters: `kv` + tag + `n` + index).
    static func nextTag() -> String {
        let pid = String(getpid(), radix: 36)
        return pid + String(counter.next() % 36, radix: 36)
    }

    /// An octet N for `10.77.N.0/24` that no interface of this machine uses, starting from one
    /// derived from the pid (parallel test runs pick different ones).
    static func freeSubnetOctet() throws -> Int {
        let used = (try? NetworkTools.run(try NetworkTools.ip(), ["-o", "-4", "addr", "show"]).stdout) ?? ""
        let start = Int(getpid()) % 250
        for step in 0..<250 {
            let octet = (start + step + counter.peek()) % 250 + 1
            if !used.contains("10.77.\(octet).") { return octet }
        }
        throw HarnessError.setupFailed("no free 10.77.N.0/24 subnet for a network lab")
    }

    /// Throws when an interface or namespace with one of these names exists already: the lab
    /// never adopts (nor, later, deletes) something it did not create.
    static func requireUnused(links: [String], namespaces: [String]) throws {
        for link in links where FileManager.default.fileExists(atPath: "/sys/class/net/\(link)") {
            throw HarnessError.setupFailed("interface \(link) exists already; not touching it")
        }
        for namespace in namespaces where FileManager.default.fileExists(atPath: "/run/netns/\(namespace)") {
            throw HarnessError.setupFailed("network namespace \(namespace) exists already; not touching it")
        }
    }
}

/// A process-wide counter for lab tags.
final class LabCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }

    func peek() -> Int {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}

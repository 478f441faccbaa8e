#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Whether a node's `host` is this machine, so that a remote action can run `keel` as a local child
/// process instead of over ssh: an empty host or a socket directory (`/…`), a loopback name or address
/// (`localhost`, `127.x.x.x`, `::1`), this machine's host name, or a name that resolves to one of the
/// addresses of this machine's network interfaces (`getifaddrs`).
public enum LocalHost {
    /// True when `host` (from a conninfo's `host` or `hostaddr`) designates this machine.
    public static func isLocal(_ host: String) -> Bool {
        let host = host.trimmingSpaces()
        if host.isEmpty || host.hasPrefix("/") || isLoopback(host) { return true }
        if host.lowercased() == hostName().lowercased() { return true }
        let mine = interfaceAddresses()
        if mine.contains(host) { return true }
        return resolve(host).contains { isLoopback($0) || mine.contains($0) }
    }

    /// `localhost`, `127.x.x.x`, `::1` (pure).
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host.hasPrefix("127.") || host == "::1" || host.hasSuffix(".localhost")
    }

    /// This machine's host name (`gethostname`).
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "" }
        return String(cString: buffer)
    }

    /// The numeric addresses of this machine's interfaces (IPv4 and IPv6).
    static func interfaceAddresses() -> Set<String> {
        var result: Set<String> = []
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return result }
        defer { freeifaddrs(list) }
        var cursor = list
        while let entry = cursor {
            if let address = entry.pointee.ifa_addr, let text = numeric(address) { result.insert(text) }
            cursor = entry.pointee.ifa_next
        }
        return result
    }

    /// The numeric addresses `name` resolves to (empty when it does not resolve).
    static func resolve(_ name: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &results) == 0 else { return [] }
        defer { freeaddrinfo(results) }
        var addresses: [String] = []
        var cursor = results
        while let entry = cursor {
            if let address = entry.pointee.ai_addr, let text = numeric(address) { addresses.append(text) }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }

    private static func numeric(_ address: UnsafeMutablePointer<sockaddr>) -> String? {
        let family = Int32(address.pointee.sa_family)
        guard family == AF_INET || family == AF_INET6 else { return nil }
        let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(address, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
        let text = String(cString: buffer)
        return text.split(separator: "%").first.map(String.init) ?? text   // drop an IPv6 zone (fe80::1%eth0)
    }
}

import CLibPQ
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

extension Connection {
    /// Blocks until the server closes this connection or `timeout` seconds pass; returns true when the
    /// connection is gone. Lets keeld notice a lost upstream the moment its socket closes (a killed
    /// postmaster, a server shutdown) instead of at the next monitoring tick.
    public func waitForClose(timeout: Double) -> Bool {
        let fd = PQsocket(handle)
        guard fd >= 0 else { return true }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN | POLLPRI), revents: 0)
        let ready = poll(&pfd, 1, Int32(timeout * 1000))
        guard ready > 0 else { return !isOK }
        if pfd.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { return true }
        // Readable: consume what arrived (a notice, or the end of the stream) and look at the state.
        if PQconsumeInput(handle) == 0 { return true }
        return !isOK
    }
}

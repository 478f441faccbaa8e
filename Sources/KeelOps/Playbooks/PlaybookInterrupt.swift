import Dispatch
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

/// Ctrl-C during `keel run`: the first SIGINT sets the flag (the playbook stops at the next step boundary,
/// a `keel.wait_for` or `keel.sleep` ends at once); a second one exits with status 130 at once.
final class PlaybookInterrupt: @unchecked Sendable {
    private let lock = Lock()
    private var raised = false
    private var source: (any DispatchSourceSignal)?

    /// True once SIGINT arrived.
    var isRaised: Bool { lock.withLock { raised } }

    /// Takes over SIGINT until `remove()`.
    func install() {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [self] in
            let again = lock.withLock { () -> Bool in defer { raised = true }; return raised }
            if again {
                writeStandardError("keel run: interrupted again, stopping now\n")
                exit(130)
            }
            writeStandardError("keel run: interrupt: stopping at the next step boundary (Ctrl-C again to stop at once)\n")
        }
        source.resume()
        self.source = source
    }

    /// Gives SIGINT back to its default action.
    func remove() {
        source?.cancel()
        source = nil
        signal(SIGINT, SIG_DFL)
    }
}

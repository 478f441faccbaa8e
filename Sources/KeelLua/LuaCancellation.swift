import CLuaShim
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore

/// What other threads may do to a `LuaEngine` whose thread is busy (or stuck): cancel all its VMs at once,
/// and read the script versions it loaded (so a replacement engine loads the same ones).
///
/// Cancelling is the watchdog's way to stop an abandoned call where the C host can: from then on the VMs
/// refuse every allocation while Lua code runs, the count hook raises at each firing, and no `keel.*`
/// function reaches Swift. None of that can interrupt Lua code running with hooks off (a finalizer, a
/// message handler reached from the hook) or one long C library call; those end on their own or never, on
/// the abandoned thread, and touch nothing the replacement uses.
final class LuaCancellation: @unchecked Sendable {
    private let lock = Lock()
    private var hosts: Set<UnsafeMutablePointer<keel_lua_host>> = []
    private var cancelled = false
    private var sources: [String: [UInt8]] = [:]
    private var threadID: Int32 = 0
    private var handlers: [Int: @Sendable () -> Void] = [:]
    private var nextHandler = 0

    /// True once `cancel()` ran.
    var isCancelled: Bool { lock.withLock { cancelled } }

    /// Adds a VM's host (cancelled at once when the engine already is).
    func register(_ host: UnsafeMutablePointer<keel_lua_host>) {
        lock.withLock {
            hosts.insert(host)
            if cancelled { keel_lua_cancel(host) }
        }
    }

    /// Removes a VM's host before it is freed.
    func unregister(_ host: UnsafeMutablePointer<keel_lua_host>) {
        _ = lock.withLock { hosts.remove(host) }
    }

    /// Cancels every VM of the engine, and lowers its thread's priority (a runaway C call keeps a core busy
    /// until it ends; it should not compete with the daemon's own threads).
    func cancel() {
        let (thread, waiting): (Int32, [@Sendable () -> Void]) = lock.withLock {
            cancelled = true
            for host in hosts { keel_lua_cancel(host) }
            defer { handlers = [:] }
            return (threadID, Array(handlers.values))
        }
        keel_lua_deprioritize_thread(thread)
        for handler in waiting { handler() }
    }

    /// Runs `handler` when the engine is cancelled (at once when it is already); returns a token for
    /// `forget(_:)`. The watchdog uses it to move jobs queued behind an abandoned call to the replacement.
    func whenCancelled(_ handler: @escaping @Sendable () -> Void) -> Int {
        let token: Int? = lock.withLock {
            guard !cancelled else { return nil }
            nextHandler += 1
            handlers[nextHandler] = handler
            return nextHandler
        }
        guard let token else { handler(); return 0 }
        return token
    }

    /// Drops the handler registered under `token`.
    func forget(_ token: Int) { _ = lock.withLock { handlers.removeValue(forKey: token) } }

    /// Records the engine thread's kernel id (called on that thread).
    func setThreadID(_ id: Int32) { lock.withLock { threadID = id } }

    /// Records the text of `path` the engine loaded last.
    func loaded(_ path: String, source: [UInt8]) { lock.withLock { sources[path] = source } }

    /// True when the engine loaded `path` (its first call will not load it).
    func hasLoaded(_ path: String) -> Bool { lock.withLock { sources[path] != nil } }

    /// The texts of the scripts the engine loaded, by path.
    var loadedSources: [String: [UInt8]] { lock.withLock { sources } }
}

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

/// Starts a detached POSIX thread named `name` (cut to the 15 bytes Linux keeps) with a stack of
/// `stackSize` bytes (0: the system's default), running `body`: what Foundation's `Thread` offered (Keel
/// does not link Foundation's full module). Returns false when the thread could not be created.
@discardableResult
public func startThread(name: String, stackSize: Int, _ body: @escaping @Sendable () -> Void) -> Bool {
    let threadName = String(decoding: name.utf8.prefix(15), as: UTF8.self)
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    if stackSize > 0 { pthread_attr_setstacksize(&attributes, max(stackSize, Int(PTHREAD_STACK_MIN))) }
    let context = Unmanaged.passRetained(ThreadBody(name: threadName, body)).toOpaque()
    #if canImport(Darwin)
    var thread: pthread_t?
    #else
    var thread = pthread_t()
    #endif
    let status = pthread_create(&thread, &attributes, { raw in
        #if canImport(Darwin)
        Unmanaged<ThreadBody>.fromOpaque(raw).takeRetainedValue().run()
        #else
        Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().run()
        #endif
        return nil
    }, context)
    guard status == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(context).release()
        return false
    }
    return true
}

/// The closure a new thread runs, passed through `pthread_create`'s context pointer.
private final class ThreadBody {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }

    /// Names the calling thread (Linux: its `comm`, seen in `top -H` and debuggers), then runs the body.
    func run() {
        #if canImport(Glibc)
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = name.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
        #endif
        body()
    }
}

/// Blocks the calling thread for `seconds` (what `Thread.sleep(forTimeInterval:)` offered).
public func sleepThread(seconds: Double) {
    guard seconds > 0 else { return }
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

/// `body` applied to every element of `items`, on threads of its own named `name` (at most `width` at a
/// time), the results in the order of `items`: blocking calls (a libpq connection per node) overlap
/// instead of queueing one after the other. Returns when every call has returned.
public func concurrentMap<T: Sendable, R: Sendable>(_ items: [T], width: Int = 16, name: String,
                                                    _ body: @escaping @Sendable (T) -> R) -> [R] {
    if items.count <= 1 { return items.map(body) }
    let state = ConcurrentMapState<R>(count: items.count)
    let work: @Sendable () -> Void = {
        while let index = state.claim() { state.finish(index, body(items[index])) }
    }
    var started = 0
    while started < min(max(1, width), items.count) - 1, startThread(name: name, stackSize: 0, work) { started += 1 }
    work()   // the calling thread takes its share too (and all of it if no thread could be started)
    return state.waitForAll()
}

/// The shared state of one `concurrentMap`: the next index to claim and the results so far.
private final class ConcurrentMapState<R>: @unchecked Sendable {
    private let condition = Condition()
    private var next = 0
    private var done = 0
    private var results: [R?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func claim() -> Int? {
        condition.withLock {
            guard next < results.count else { return nil }
            next += 1
            return next - 1
        }
    }

    func finish(_ index: Int, _ result: R) {
        condition.withLock {
            results[index] = result
            done += 1
            if done == results.count { condition.broadcast() }
        }
    }

    func waitForAll() -> [R] {
        condition.lock()
        defer { condition.unlock() }
        while done < results.count { condition.wait() }
        return results.map { $0! }
    }
}

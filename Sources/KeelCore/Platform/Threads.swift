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

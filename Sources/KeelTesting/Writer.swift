import Foundation

/// One INSERT a server acknowledged: which node, the value, and when (seconds on the writer's
/// clock, see `Writer.now`) it was sent and acknowledged.
public struct AcknowledgedWrite: Sendable, Hashable {
    /// The node whose server acknowledged the write.
    public let node: String
    /// The unique value inserted.
    public let value: Int64
    /// When the INSERT was sent.
    public let sent: Double
    /// When the acknowledgement arrived.
    public let acknowledged: Double

    /// A record of one acknowledged write.
    public init(node: String, value: Int64, sent: Double, acknowledged: Double) {
        self.node = node
        self.value = value
        self.sent = sent
        self.acknowledged = acknowledged
    }
}

/// A client that inserts rows continuously into every node at once (one thread per node, as an
/// application that follows no particular primary would) and records every acknowledged INSERT.
/// Each statement has a client-side deadline: a reply later than that is not an acknowledgement
/// (the client gave up and dropped the connection). Rows go to `fault_writes (node, v)`.
public final class Writer: @unchecked Sendable {
    /// The table the writer inserts into; create it with `Writer.createTableSQL` on the primary.
    public static let createTableSQL = "CREATE TABLE fault_writes (node text NOT NULL, v bigint PRIMARY KEY)"

    private let targets: [(String, String)]
    private let timeout: Double
    private let pause: Double
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant
    private let lock = NSLock()
    private var log: [AcknowledgedWrite] = []
    private var nextValue: Int64 = 1
    private var stopping = false
    private var running = 0

    /// `targets` maps node names to libpq conninfos (with `connect_timeout`); `timeout` is the
    /// per-statement deadline, `pause` the time between two INSERTs of one node.
    public init(targets: [String: String], timeout: Double = 1, pause: Double = 0.02) {
        self.targets = targets.sorted { $0.key < $1.key }
        self.timeout = timeout
        self.pause = pause
        origin = clock.now
    }

    /// Seconds since the writer was made, the clock of every `AcknowledgedWrite`.
    public var now: Double {
        let elapsed = clock.now - origin
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Starts one thread per node.
    public func start() {
        for (node, conninfo) in targets {
            lock.lock()
            running += 1
            lock.unlock()
            let thread = Thread { [self] in loop(node: node, conninfo: conninfo) }
            thread.name = "KeelTesting.Writer.\(node)"
            thread.start()
        }
    }

    /// Stops the threads and waits (up to the deadline plus a second) until they are done.
    public func stop() {
        lock.lock()
        stopping = true
        lock.unlock()
        try? waitFor("writer threads to stop", timeout: timeout + 12, interval: 0.02) {
            lock.lock()
            defer { lock.unlock() }
            return running == 0
        }
    }

    /// Every acknowledged write so far, in acknowledgement order.
    public var writes: [AcknowledgedWrite] {
        lock.lock()
        defer { lock.unlock() }
        return log.sorted { $0.acknowledged < $1.acknowledged }
    }

    private func loop(node: String, conninfo: String) {
        let connection = DeadlineConnection(conninfo: conninfo, timeout: timeout)
        while true {
            lock.lock()
            let stop = stopping
            let value = nextValue
            nextValue += 1
            lock.unlock()
            if stop { break }
            let sent = now
            if connection.execute("INSERT INTO fault_writes VALUES ('\(node)', \(value))") {
                let acknowledged = now
                if acknowledged - sent <= timeout {
                    lock.lock()
                    log.append(AcknowledgedWrite(node: node, value: value, sent: sent, acknowledged: acknowledged))
                    lock.unlock()
                }
            }
            Thread.sleep(forTimeInterval: pause)
        }
        lock.lock()
        running -= 1
        lock.unlock()
    }
}

import Foundation
import Testing
@testable import KeelCore

/// The stand-ins for Foundation's full module (which keel and keeld do not link) give the results the
/// Foundation calls they replaced gave, on the inputs Keel passes them.
@Suite("POSIX stand-ins for Foundation")
struct PlatformTests {
    static let texts = ["", " ", "\t", "a", " a ", "\ta b\t", "\n a\n", "\r\n x \u{00A0}", "\u{2028}y\u{2029}",
                        "a\u{0085}", "  key = 'v'  ", "\u{3000}z\u{3000}", "é\u{0301} "]

    @Test("trimmingSpaces and trimmingWhitespace trim what .whitespaces and .whitespacesAndNewlines trim")
    func trimming() {
        for text in Self.texts {
            #expect(text.trimmingSpaces() == text.trimmingCharacters(in: .whitespaces), "\(text.debugDescription)")
            #expect(text.trimmingWhitespace() == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(text.debugDescription)")
            #expect(text[...].trimmingSpaces() == text.trimmingCharacters(in: .whitespaces))
        }
    }

    static let paths = ["", "/", "a", "/a", "/a/", "/a/b", "a/b/", "/a//b", "//a", "/var/lib/postgresql/15/main",
                        "relative/dir/", "/a/b/c.conf"]

    @Test("PathString joins and splits paths as NSString's path methods do")
    func paths() {
        for path in Self.paths {
            #expect(PathString.lastComponent(path) == (path as NSString).lastPathComponent, "\(path)")
            if !path.isEmpty && !path.contains("/") {
                #expect(PathString.deletingLastComponent(path) == "")   // Foundation on Linux traps on a bare name
            } else {
                #expect(PathString.deletingLastComponent(path) == (path as NSString).deletingLastPathComponent, "\(path)")
            }
            for component in ["keel", "postgresql.conf", "x/y"] where !path.isEmpty {
                #expect(PathString.join(path, component) == (path as NSString).appendingPathComponent(component), "\(path) + \(component)")
            }
        }
        #expect(PathString.join("", "keel") == "keel")
        #expect(PathString.join("/a/", "/keel") == "/a/keel")   // Foundation on Linux gives "/a//keel"
        #expect(PathString.join("/", "/keel") == "/keel")
        #expect(PathString.standardized("/tmp/./k//node1/../node2/") == "/tmp/k/node2")
        #expect(PathString.standardized("k/./a") == "k/a")
        #expect(PathString.standardized("../k") == "../k")
    }

    @Test("String(cFormat:) renders the numbers as String(format:) does")
    func cFormat() {
        for value in [0.0, 0.04, 1.25, 12.5, 1e-7, 123456.789, -3.5] {
            for spec in ["%.1f", "%.2f", "%.3f", "%.14g", "%.17g", "%.1f µs", "took %.1f s"] {
                #expect(String(cFormat: spec, value) == String(format: spec, value), "\(spec) \(value)")
            }
        }
        #expect(String(cFormat: "\\u%04x", UInt32(0x1f)) == "\\u001f")
        let long = String(repeating: "x", count: 300)
        #expect(String(cFormat: long + " %.1f", 2.0) == long + " 2.0")
    }

    @Test("startThread runs the body on a thread of its own name; Condition.wait(seconds:) times out")
    func threads() {
        let condition = Condition()
        nonisolated(unsafe) var seen: (name: String, isMain: Bool)?
        let started = startThread(name: "keel-test-thread-with-a-long-name", stackSize: 256 << 10) {
            let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
            condition.withLock {
                seen = (comm.trimmingWhitespace(), Thread.isMainThread)
                condition.signal()
            }
        }
        #expect(started)
        condition.lock()
        let deadline = Date().addingTimeInterval(10)
        while seen == nil && Date() < deadline { condition.wait(seconds: 0.1) }
        let result = seen
        condition.unlock()
        #expect(result?.name == "keel-test-threa")   // Linux keeps 15 bytes
        #expect(result?.isMain == false)
        condition.lock()
        let signalled = condition.wait(seconds: 0.05)
        condition.unlock()
        #expect(!signalled)
    }

    @Test("concurrentMap keeps the order of its input and runs the calls at the same time")
    func concurrentMapOverlaps() {
        let started = Date()
        let results = concurrentMap(Array(0..<6), name: "keel-test-map") { i -> Int in
            sleepThread(seconds: 0.3)
            return i * i
        }
        #expect(results == [0, 1, 4, 9, 16, 25])
        #expect(Date().timeIntervalSince(started) < 1.5)   // one after the other would take 1.8 s
        #expect(concurrentMap([Int](), name: "keel-test-map") { $0 }.isEmpty)
        #expect(concurrentMap(Array(0..<40), width: 3, name: "keel-test-map") { $0 + 1 } == Array(1...40))
    }
}

import Foundation
import Testing
@testable import KeelTesting
#if canImport(Glibc)
import Glibc
#endif

/// The harness's posix_spawn launcher: output capture, exit status, timeout, and what the child
/// inherits (signal mask, dispositions, process group, directory, environment, descriptors).
@Suite("Child launcher (posix_spawn)", .serialized)
struct ChildLauncherTests {
    /// Runs `script` with `/bin/sh -c`.
    private func shell(_ script: String, environment: [String: String]? = nil, directory: String? = nil,
                       timeout: Double = 30) throws -> ProcessResult {
        try ChildLauncher.run("/bin/sh", ["-c", script], environment: environment, currentDirectory: directory, timeout: timeout)
    }

    /// The hexadecimal mask on line `key` of the child's /proc/self/status. `grep` is the child
    /// itself: a shell in between would clear its own signal mask at start-up.
    private func statusMask(_ key: String) throws -> UInt64? {
        let line = try ChildLauncher.run("/bin/grep", ["^\(key):", "/proc/self/status"]).requireSuccess().stdout
        return line.split(separator: ":").last.flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines), radix: 16) }
    }

    @Test("stdout and stderr of a child writing more than a pipe buffer are captured whole, with its exit status")
    func chattyChild() throws {
        let result = try shell("head -c 300000 /dev/zero | tr '\\0' a; head -c 200000 /dev/zero | tr '\\0' b >&2; exit 3")
        #expect(result.status == 3)
        #expect(result.stdout.utf8.count == 300_000 && result.stdout.allSatisfy { $0 == "a" })
        #expect(result.stderr.utf8.count == 200_000 && result.stderr.allSatisfy { $0 == "b" })
    }

    @Test("a child killed by SIGTERM reports 128 + 15 (SIGTERM has its default disposition)")
    func killedBySignal() throws {
        #expect(try shell("kill -TERM $$; sleep 5").status == 128 + SIGTERM)
    }

    @Test("a missing executable is a launch failure naming the command")
    func missingExecutable() throws {
        #expect {
            try ChildLauncher.run("/nonexistent/keel-no-such-tool", [])
        } throws: { error in
            guard case let .launchFailed(command, _) = error as? HarnessError else { return false }
            return command.contains("keel-no-such-tool")
        }
    }

    @Test("on timeout the child's whole process group is killed, including a grandchild")
    func timeoutKillsGroup() throws {
        var partialOutput = ""
        do {
            _ = try shell("sleep 300 & echo $!; wait", timeout: 2)
            Issue.record("the command should have timed out")
        } catch let HarnessError.commandTimedOut(_, _, output) {
            partialOutput = output
        }
        let grandchild = try #require(Int32(partialOutput.trimmingCharacters(in: .whitespacesAndNewlines)))
        try waitFor("grandchild \(grandchild) to be gone", timeout: 10, interval: 0.05) {
            guard let stat = try? String(contentsOfFile: "/proc/\(grandchild)/stat", encoding: .utf8) else { return true }
            return stat.split(separator: ")").last?.dropFirst().first == "Z"
        }
    }

    @Test("the child starts with an empty signal mask even when the launching thread blocks signals")
    func emptySignalMask() throws {
        var all = sigset_t()
        var previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_SETMASK, &all, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        #expect(try statusMask("SigBlk") == 0)
    }

    @Test("SIGPIPE ignored by the test process is back to its default in the child")
    func defaultDispositions() throws {
        let before = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, before) }
        let ignored = try #require(try statusMask("SigIgn"))
        #expect(ignored & (1 << (UInt64(SIGPIPE) - 1)) == 0)
        #expect(ignored & (1 << (UInt64(SIGTERM) - 1)) == 0)
    }

    @Test("the child leads its own process group")
    func ownProcessGroup() throws {
        let words = try shell("echo $$; cut -d' ' -f5 /proc/$$/stat").requireSuccess().stdout.split(separator: "\n")
        #expect(words.count == 2)
        #expect(words.first == words.last)
        #expect(Int32(words.last ?? "") != getpgrp())
    }

    @Test("the working directory and the complete environment given are the child's; nil inherits the environment")
    func directoryAndEnvironment() throws {
        let directory = NSTemporaryDirectory() + "keel-launcher-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let given = try shell("pwd -P; echo \"$KEEL_PROBE\"; echo \"${HOME-unset}\"",
                              environment: ["KEEL_PROBE": "a b'c", "PATH": "/usr/bin:/bin"], directory: directory)
        let resolved = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        #expect(given.stdout == "\(resolved)\na b'c\nunset\n")
        let inherited = try shell("printf '%s' \"$PATH\"").stdout
        #expect(inherited == ProcessInfo.processInfo.environment["PATH"] ?? "")
    }

    @Test("the child holds no descriptor but 0, 1 and 2, even one the test process left inheritable")
    func noExtraDescriptors() throws {
        let leaky = open("/dev/null", O_RDONLY)  // deliberately without O_CLOEXEC
        try #require(leaky >= 0)
        defer { close(leaky) }
        // `ls` itself holds one more: its directory stream, on the lowest free number (3).
        #expect(try shell("exec ls /proc/self/fd").stdout == "0\n1\n2\n3\n")

        let file = NSTemporaryDirectory() + "keel-launcher-fds-\(getpid())"
        let output = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        try #require(output >= 0)
        defer { unlink(file) }
        let child = try ChildLauncher.launch(LaunchRequest(
            executable: "/bin/ls", arguments: ["/proc/self/fd"], stdout: .descriptor(output)))
        close(output)
        #expect(ChildMonitor(pid: child.pid).wait(timeout: 30) == 0)
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "0\n1\n2\n3\n")
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a launched child's standard output or standard error goes.
public enum ChildOutput: Sendable {
    /// `/dev/null`.
    case discard
    /// A new pipe; its read end is returned in `LaunchedChild` and belongs to the caller.
    case pipe
    /// An open descriptor of the caller (e.g. a log file), duplicated into the child.
    case descriptor(Int32)
}

/// What to start: the executable, its arguments, environment, directory and output.
public struct LaunchRequest: Sendable {
    /// Absolute path of the executable.
    public var executable: String
    /// Arguments, without the executable (which becomes `argv[0]`).
    public var arguments: [String]
    /// The complete environment of the child; nil inherits the test process's environment.
    public var environment: [String: String]?
    /// Working directory of the child; nil keeps the current one.
    public var currentDirectory: String?
    /// Where standard output goes.
    public var stdout: ChildOutput
    /// Where standard error goes.
    public var stderr: ChildOutput

    /// Creates a request; output is discarded unless told otherwise.
    public init(
        executable: String, arguments: [String] = [], environment: [String: String]? = nil,
        currentDirectory: String? = nil, stdout: ChildOutput = .discard, stderr: ChildOutput = .discard
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.currentDirectory = currentDirectory
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// A child started by `ChildLauncher`: its pid (also its process group id) and the read ends of
/// the pipes asked for, which the caller must close.
public struct LaunchedChild: Sendable {
    /// The child's pid; the child leads its own process group, whose id is the same.
    public let pid: pid_t
    /// The read end of the stdout pipe when `.pipe` was asked for.
    public let stdoutPipe: Int32?
    /// The read end of the stderr pipe when `.pipe` was asked for.
    public let stderrPipe: Int32?
}

/// Starts child processes with `posix_spawn(3)`. Foundation's `Process` is not used because on
/// Linux (Swift 6.3) its `run()` copies the whole `d_name` of each `/proc/self/fd` entry and can
/// read past the end of glibc's directory buffer, crashing the test process now and then.
///
/// Every child gets standard input from `/dev/null`, an empty signal mask (Swift Testing's worker
/// threads block nearly every signal, and a child — or a daemon it starts — would inherit that and
/// ignore SIGTERM), default dispositions for SIGTERM, SIGINT, SIGCHLD and SIGPIPE, its own process
/// group (so a timeout can kill what it forked), and no descriptor of the test process but 0, 1
/// and 2. The caller reaps it (see `ChildMonitor`).
public enum ChildLauncher {
    /// Starts `request`; throws `HarnessError.launchFailed` when the child cannot be started
    /// (missing executable or directory, no permission…).
    public static func launch(_ request: LaunchRequest) throws -> LaunchedChild {
        let commandLine = ([request.executable] + request.arguments).map(ProcessRunner.quote).joined(separator: " ")
        var opened: [Int32] = []
        func failure(_ reason: String) -> HarnessError {
            opened.forEach { _ = close($0) }
            return HarnessError.launchFailed(command: commandLine, reason: reason)
        }
        var stdoutPipe: (read: Int32, write: Int32)?
        var stderrPipe: (read: Int32, write: Int32)?
        do {
            if case .pipe = request.stdout { stdoutPipe = try makePipe(); opened += [stdoutPipe!.read, stdoutPipe!.write] }
            if case .pipe = request.stderr { stderrPipe = try makePipe(); opened += [stderrPipe!.read, stderrPipe!.write] }
        } catch {
            throw failure(String(describing: error))
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        do {
            try addFileActions(&actions, request: request, stdoutWrite: stdoutPipe?.write, stderrWrite: stderrPipe?.write)
            try configure(&attributes)
        } catch {
            throw failure(String(describing: error))
        }
        var pid: pid_t = 0
        let result = spawn(&pid, request, &actions, &attributes)
        // The child has its own copies of the write ends: close ours so that end-of-file comes.
        for write in [stdoutPipe?.write, stderrPipe?.write].compactMap({ $0 }) {
            _ = close(write)
            opened.removeAll { $0 == write }
        }
        guard result == 0 else { throw failure(String(cString: strerror(result))) }
        return LaunchedChild(pid: pid, stdoutPipe: stdoutPipe?.read, stderrPipe: stderrPipe?.read)
    }

    /// Runs `executable` to completion with stdout and stderr captured, killing its process group
    /// after `timeout` seconds (then throwing `HarnessError.commandTimedOut`).
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        currentDirectory: String? = nil, timeout: Double = 120
    ) throws -> ProcessResult {
        try ProcessRunner(
            executable: executable, arguments: arguments, environment: environment,
            currentDirectory: currentDirectory, timeout: timeout
        ).run()
    }

    /// Calls `posix_spawn` with C copies of the argument vector and environment.
    private static func spawn(
        _ pid: inout pid_t, _ request: LaunchRequest,
        _ actions: inout posix_spawn_file_actions_t, _ attributes: inout posix_spawnattr_t
    ) -> Int32 {
        let argv = ([request.executable] + request.arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        guard let environment = request.environment else {
            return posix_spawn(&pid, request.executable, &actions, &attributes, argv, environ)
        }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        return posix_spawn(&pid, request.executable, &actions, &attributes, argv, envp)
    }

    /// A pipe created close-on-exec (`pipe2`), so that no child started meanwhile by another
    /// thread inherits it.
    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard let pipe2 = GlibcExtensions.pipe2 else { throw LaunchError("pipe2 is missing from the C library") }
        guard pipe2(&fds, O_CLOEXEC) == 0 else { throw LaunchError("pipe2: \(String(cString: strerror(errno)))") }
        return (fds[0], fds[1])
    }

    /// stdin from /dev/null, stdout and stderr as asked, the directory, then every descriptor
    /// from 3 up closed.
    private static func addFileActions(
        _ actions: inout posix_spawn_file_actions_t, request: LaunchRequest, stdoutWrite: Int32?, stderrWrite: Int32?
    ) throws {
        try check(posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0), "addopen")
        for (target, output, pipeWrite) in [(Int32(1), request.stdout, stdoutWrite), (Int32(2), request.stderr, stderrWrite)] {
            switch output {
            case .discard:
                try check(posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0), "addopen")
            case .pipe:
                try check(posix_spawn_file_actions_adddup2(&actions, pipeWrite ?? -1, target), "adddup2")
            case .descriptor(let fd):
                try check(posix_spawn_file_actions_adddup2(&actions, fd, target), "adddup2")
            }
        }
        if let directory = request.currentDirectory {
            guard let addchdir = GlibcExtensions.addchdir else {
                throw LaunchError("posix_spawn_file_actions_addchdir_np is missing (glibc 2.29 or later is needed)")
            }
            try check(addchdir(&actions, directory), "addchdir_np")
        }
        if let addclosefrom = GlibcExtensions.addclosefrom {
            try check(addclosefrom(&actions, 3), "addclosefrom_np")
        }
    }

    /// Own process group, empty signal mask, default dispositions for the signals a test sends
    /// or a shell relies on.
    private static func configure(_ attributes: inout posix_spawnattr_t) throws {
        let flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        try check(posix_spawnattr_setflags(&attributes, Int16(flags)), "setflags")
        try check(posix_spawnattr_setpgroup(&attributes, 0), "setpgroup")
        var empty = sigset_t()
        sigemptyset(&empty)
        try check(posix_spawnattr_setsigmask(&attributes, &empty), "setsigmask")
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGCHLD, SIGPIPE] { sigaddset(&defaults, signal) }
        try check(posix_spawnattr_setsigdefault(&attributes, &defaults), "setsigdefault")
    }

    private static func check(_ result: Int32, _ call: String) throws {
        guard result == 0 else { throw LaunchError("posix_spawn \(call): \(String(cString: strerror(result)))") }
    }
}

/// Why a launch could not be prepared.
private struct LaunchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// glibc's `pipe2`, `posix_spawn_file_actions_addchdir_np` (2.29) and `…_addclosefrom_np` (2.34),
/// which the Swift Glibc module does not export (they are GNU extensions): looked up at run time.
private enum GlibcExtensions {
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

    static let pipe2: Pipe2? = symbol("pipe2").map { unsafeBitCast($0, to: Pipe2.self) }

    static let addchdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np").map { unsafeBitCast($0, to: AddChdir.self) }
    static let addclosefrom: AddClosefrom? = symbol("posix_spawn_file_actions_addclosefrom_np").map {
        unsafeBitCast($0, to: AddClosefrom.self)
    }

    private static func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        guard let handle = dlopen(nil, RTLD_NOW) else { return nil }
        return dlsym(handle, name)
    }
}

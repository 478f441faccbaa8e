import Foundation

/// How the harness launches commands: as the server user through `runuser` when the tests
/// run as root, directly otherwise; with executables looked up in the PostgreSQL bin directory,
/// the workspace's bin directory and then `PATH`.
struct CommandContext: Sendable {
    /// The OS user commands run as when the tests run as root; nil runs them directly.
    var serverUser: String?
    /// The PostgreSQL server binaries (initdb, pg_ctl, psql, …).
    var postgresBinDirectory: String
    /// Directories searched for bare executable names, after `postgresBinDirectory`.
    var extraSearchDirectories: [String]
    /// The working directory used when a command names none.
    var defaultDirectory: String
    /// The network namespace commands run in (`ip netns exec NAME …`); nil for the caller's own.
    var networkNamespace: String? = nil

    /// This context with commands run inside network namespace `name` (nil: the caller's own).
    func inNamespace(_ name: String?) -> CommandContext {
        var copy = self
        copy.networkNamespace = name
        return copy
    }

    /// The absolute path for `executable`: unchanged when it contains a slash, else the first
    /// match in the PostgreSQL bin directory, the extra directories, then `PATH`.
    func resolve(_ executable: String) throws -> String {
        if executable.contains("/") { return executable }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = [postgresBinDirectory] + extraSearchDirectories
            + path.split(separator: ":").map(String.init)
        for directory in directories {
            let candidate = directory + "/" + executable
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw HarnessError.launchFailed(command: executable, reason: "not found in \(directories.joined(separator: ":"))")
    }

    /// Runs `executable` with `arguments` to completion. `environment` is added to the test
    /// process's environment, from which inherited `PG*` variables are removed so that a
    /// developer's `PGHOST`/`PGPORT` cannot leak into the tests.
    func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        currentDirectory: String? = nil, timeout: Double = 120
    ) throws -> ProcessResult {
        let resolved = try resolve(executable)
        var inherited = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }
        inherited.merge(environment) { _, new in new }
        let (launcher, launchArguments) = try commandLine(resolved, arguments, environment: environment)
        let runner = ProcessRunner(
            executable: launcher, arguments: launchArguments, environment: inherited,
            currentDirectory: currentDirectory ?? defaultDirectory, timeout: timeout)
        return try runner.run()
    }

    /// The executable and arguments that run `resolved` as the server user when needed:
    /// `runuser -u <user> -- env K=V… <resolved> <arguments>` (runuser resets HOME and the
    /// like, so additions are applied again after it).
    func commandLine(_ resolved: String, _ arguments: [String], environment: [String: String]) throws -> (String, [String]) {
        let (launcher, launchArguments) = try userCommandLine(resolved, arguments, environment: environment)
        guard let namespace = networkNamespace else { return (launcher, launchArguments) }
        return (try NetworkTools.ip(), ["netns", "exec", namespace, launcher] + launchArguments)
    }

    private func userCommandLine(_ resolved: String, _ arguments: [String], environment: [String: String]) throws -> (String, [String]) {
        guard let user = serverUser, FileOwnership.isRoot else { return (resolved, arguments) }
        guard let runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
            .first(where: FileManager.default.isExecutableFile(atPath:))
        else {
            throw HarnessError.launchFailed(command: resolved, reason: "runuser not found (needed to run as \(user))")
        }
        var wrapped = ["-u", user, "--"]
        if !environment.isEmpty {
            let env = FileManager.default.isExecutableFile(atPath: "/usr/bin/env") ? "/usr/bin/env" : "/bin/env"
            wrapped.append(env)
            wrapped += environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        }
        wrapped.append(resolved)
        return (runuser, wrapped + arguments)
    }
}

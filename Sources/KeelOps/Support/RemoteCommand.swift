#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore

/// Runs `keel` on another node with that node's configuration file (`repmgr.nodes.config_file`), as
/// repmgr 5.3's `remote_command` does for switchover, `--siblings-follow` and `cluster matrix|crosscheck`:
/// `ssh [ssh_options] [-l REMOTE_USER] HOST keel -f CONFIG ARGS…` (keel in `repmgr_bindir`, else on the
/// remote `PATH`), or — when the node's host is this machine (`LocalHost.isLocal`) — directly as a local
/// child process (keel in `repmgr_bindir` when it is there, else this very `keel` binary). The sandbox and the tests use the
/// local path. With `remote_transport = http`, every node (this host's too) is asked through its keeld's
/// HTTP API instead (`RemoteCommand+HTTP`): ssh is never run.
public struct RemoteCommand: Sendable {
    /// How the command reaches the node.
    public enum Route: Sendable, Equatable {
        /// A local child process (the node's host is this machine).
        case local
        /// `ssh` to `host`.
        case ssh(host: String)
        /// keeld's HTTP API at `host:port` (`remote_transport = http`; `port` nil when none is configured).
        case http(host: String, port: Int?)
    }

    /// The node the command runs for.
    public let node: NodeRecord
    /// How it gets there.
    public let route: Route
    /// The `keel` executable: absolute path (local), or path/name on the remote host (ssh).
    public let keelPath: String
    /// `ssh_options` split into words.
    public let sshOptions: [String]
    /// `-R/--remote-user` (ssh `-l`), `nil` = ssh's default.
    public let remoteUser: String?
    /// This node's `http_token_file` (the bearer token sent with `remote_transport = http`).
    let tokenFile: String

    /// Prepares a command for `node` with this node's `config` (`ssh_options`, `repmgr_bindir`).
    /// `isLocal` decides whether a host is this machine (default `LocalHost.isLocal`).
    public init(node: NodeRecord, config: KeelConfig, remoteUser: String? = nil,
                isLocal: (String) -> Bool = LocalHost.isLocal) {
        self.node = node
        self.remoteUser = remoteUser
        sshOptions = ShellWords.split(config.sshOptions)
        let host = Conninfo.value("host", in: node.conninfo) ?? Conninfo.value("hostaddr", in: node.conninfo) ?? ""
        // A multi-host conninfo ("host=a,b") names its first host.
        let first = host.split(separator: ",").first.map(String.init) ?? host
        tokenFile = config.httpTokenFile
        if config.remoteOverHTTP {
            let ports = (try? RemoteHTTPPort.parse(config.remoteHTTPPort)) ?? RemoteHTTPPort(defaultPort: nil, ports: [:])
            route = .http(host: first, port: ports.port(for: node.nodeID, httpListen: config.httpListen))
        } else {
            route = isLocal(first) ? .local : .ssh(host: first)
        }
        let bindir = config.repmgrBindir
        switch route {
        case .local:
            // repmgr_bindir often names PostgreSQL's bin directory (repmgr lives there): without keel in it,
            // this very keel binary runs.
            let configured = PathString.join(bindir, "keel")
            keelPath = !bindir.isEmpty && FileManager.default.isExecutableFile(atPath: configured) ? configured
                : URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        case .ssh, .http:
            keelPath = bindir.isEmpty ? "keel" : PathString.join(bindir, "keel")
        }
    }

    /// The `keel` arguments for `arguments`: `-f CONFIG` first. Throws `KeelError` 1 when the node has no
    /// `config_file` on record.
    public func keelArguments(_ arguments: [String]) throws -> [String] {
        guard !node.configFile.isEmpty else {
            throw KeelError(.badConfig, "\(node.nodeLabel) has no configuration file on record (repmgr.nodes.config_file)",
                            hint: "register the node again with its configuration file given with -f")
        }
        return ["-f", node.configFile] + arguments
    }

    /// The whole command line as it runs (for logs, `--dry-run` and "run this next" hints), words
    /// shell-quoted, without any password (`run` passes it apart from the command line).
    public func display(_ arguments: [String]) -> String {
        if case .http(let host, let port) = route { return Self.displayHTTP(host: host, port: port, arguments) }
        let stripped = CommandLinePassword.strippingKeelArguments(arguments).arguments
        let args = (try? keelArguments(stripped)) ?? stripped
        let keel = ([keelPath] + args).map(Self.quote).joined(separator: " ")
        switch route {
        case .local, .http:
            return keel
        case .ssh(let host):
            return (["ssh"] + sshOptions + (remoteUser.map { ["-l", $0] } ?? []) + ["--", host]).map(Self.quote).joined(separator: " ")
                + " " + Self.quote(keel)
        }
    }

    /// Runs `keel ARGS` for the node, waiting up to `timeout` seconds, and returns its exit status and
    /// output. A password in a `-d/--dbname` conninfo never reaches a command line: it is removed from the
    /// argument and passed as `PGPASSWORD` in the environment (local) or on ssh's standard input, which the
    /// remote shell reads into `PGPASSWORD` before it runs keel. Throws `KeelError`: 12 (ERR_BAD_SSH) when ssh itself fails (status 255), ssh or the remote keel
    /// is not found (127), or ssh cannot be started;
    /// 13 when the local `keel` cannot be started; 1 when the node has no `config_file`.
    public func run(_ arguments: [String], timeout: Double) async throws -> CommandResult {
        let (stripped, password) = CommandLinePassword.strippingKeelArguments(arguments)
        switch route {
        case .http(let host, let port):
            // keeld runs keel with its own configuration file: no config_file needed.
            return try await runOverHTTP(host: host, port: port, arguments, timeout: timeout)
        case .local:
            let args = try keelArguments(stripped)
            do {
                return try await ProcessRunner.run(keelPath, args, environment: password.map { ["PGPASSWORD": $0] } ?? [:],
                                                   timeout: timeout)
            } catch {
                throw KeelError(.systemFailure, "unable to run \"\(keelPath)\" for \(node.nodeLabel)",
                                detail: "\(error)", hint: "set repmgr_bindir to the directory holding keel")
            }
        case .ssh(let host):
            let args = try keelArguments(stripped)
            var remote = ([keelPath] + args).map(Self.quote).joined(separator: " ")
            if password != nil { remote = "IFS= read -r PGPASSWORD && export PGPASSWORD && exec " + remote }
            // `--`: a host starting with "-" is a host, never an ssh option.
            let sshArgs = sshOptions + (remoteUser.map { ["-l", $0] } ?? []) + ["--", host, remote]
            let result: CommandResult
            do {
                result = try await ProcessRunner.run("/usr/bin/env", ["ssh"] + sshArgs, input: password.map { $0 + "\n" },
                                                     timeout: timeout)
            } catch {
                throw KeelError(.badSSH, "unable to run ssh to host \"\(host)\"", detail: "\(error)")
            }
            // 255: ssh could not connect; 127: ssh (or keel on the remote host) not found.
            if result.status == 255 || result.status == 127 {
                throw KeelError(.badSSH, "unable to run keel on host \"\(host)\" of \(node.nodeLabel) via SSH (exit status \(result.status))",
                                detail: result.stderr.trimmingWhitespace(),
                                hint: "check passwordless SSH from this host as this user, and ssh_options")
            }
            return result
        }
    }

    /// A word quoted for `/bin/sh` only when it needs it: left bare only when every Unicode scalar is an
    /// ASCII letter, digit or one of `-_./=:,@%+` (judged per scalar, never per grapheme).
    static func quote(_ word: String) -> String {
        Placeholders.quoteIfNeeded(word)
    }
}

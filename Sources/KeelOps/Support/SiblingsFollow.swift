#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore

/// `--siblings-follow` of `standby promote` and `standby switchover`: the other nodes attached to the
/// former primary are pointed at the new primary by running `keel` on each of them (`RemoteCommand`):
/// a standby runs `keel standby follow --upstream-node-id NEW`, a witness re-registers with
/// `keel witness register -d NEW_CONNINFO --force` (as repmgr 5.3's `do_standby_promote` /
/// `do_standby_switchover` do for siblings). Never run from inside `promote_command`: keeld's siblings
/// follow by themselves (`follow_command`), and a follow started by the promoting node would race them.
public struct SiblingsFollow {
    /// One sibling that could not be made to follow.
    public struct Failure: Sendable, Equatable {
        /// The sibling.
        public var node: NodeRecord
        /// Why (exit status and the last lines the command printed, or the error).
        public var reason: String
        /// The command to run by hand.
        public var command: String
    }

    /// This node's context (its configuration supplies `ssh_options` and `repmgr_bindir`).
    public let context: OpsContext
    /// `-R/--remote-user` for ssh.
    public let remoteUser: String?

    /// Makes the helper.
    public init(context: OpsContext, remoteUser: String? = nil) {
        self.context = context
        self.remoteUser = remoteUser
    }

    /// The siblings among `nodes` (pure): active standbys and witnesses whose upstream is `formerPrimaryID`,
    /// other than `newPrimaryID`, in `nodes` order.
    public static func siblings(of formerPrimaryID: Int?, excluding newPrimaryID: Int, in nodes: [NodeRecord]) -> [NodeRecord] {
        guard let formerPrimaryID else { return [] }
        return nodes.filter { $0.nodeID != newPrimaryID && $0.nodeID != formerPrimaryID && $0.active
            && ($0.type == .standby || $0.type == .witness) && $0.upstreamNodeID == formerPrimaryID }
    }

    /// The `keel` arguments that make `sibling` follow `newPrimary`.
    public static func arguments(for sibling: NodeRecord, newPrimary: NodeRecord) -> [String] {
        sibling.type == .witness ? ["witness", "register", "-d", newPrimary.conninfo, "--force"]
                                 : ["standby", "follow", "--upstream-node-id", String(newPrimary.nodeID)]
    }

    /// The command line that makes `sibling` follow (for `--dry-run` and hints; the conninfo masked).
    public func display(_ sibling: NodeRecord, newPrimary: NodeRecord) -> String {
        Conninfo.masked(RemoteCommand(node: sibling, config: context.config, remoteUser: remoteUser)
            .display(Self.arguments(for: sibling, newPrimary: newPrimary)))
    }

    /// Runs the follow on each sibling in turn, each for up to `standby_follow_timeout` + 60 seconds, and
    /// returns the ones that failed (logged as warnings; never throws).
    public func run(_ siblings: [NodeRecord], newPrimary: NodeRecord) async -> [Failure] {
        let log = context.logger
        let timeout = Double(context.config.int("standby_follow_timeout") + 60)
        var failures: [Failure] = []
        for sibling in siblings {
            let label = sibling.nodeLabel
            let remote = RemoteCommand(node: sibling, config: context.config, remoteUser: remoteUser)
            let shown = display(sibling, newPrimary: newPrimary)
            log.info("making sibling \(label) follow the new primary: \(shown)")
            do {
                let result = try await remote.run(Self.arguments(for: sibling, newPrimary: newPrimary), timeout: timeout)
                if result.succeeded {
                    log.notice("sibling \(label) now follows \(newPrimary.nodeLabel)")
                } else {
                    let reason = "exit status \(result.status): " + Self.tail(result.stderr + result.stdout)
                    log.warning("unable to make sibling \(label) follow the new primary (\(reason))")
                    failures.append(Failure(node: sibling, reason: reason, command: shown))
                }
            } catch let error as KeelError {
                log.warning("unable to make sibling \(label) follow the new primary: \(error.message)")
                failures.append(Failure(node: sibling, reason: error.message, command: shown))
            } catch {
                failures.append(Failure(node: sibling, reason: "\(error)", command: shown))
            }
        }
        return failures
    }

    /// The last three non-empty lines of a command's output, joined (for messages).
    static func tail(_ output: String) -> String {
        output.split(whereSeparator: \.isNewline).suffix(3).joined(separator: " / ")
    }
}

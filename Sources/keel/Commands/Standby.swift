import ArgumentParser
import KeelCore
import KeelOps

/// `keel standby clone|register|unregister|promote|follow|switchover`.
struct Standby: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "standby", abstract: "Clone, register, unregister, promote standbys, make them follow a new upstream, switch over.",
                                                    subcommands: [Clone.self, Register.self, Unregister.self, Promote.self, Follow.self, Switchover.self])

    struct Clone: KeelCommand {
        static let configuration = CommandConfiguration(
            commandName: "clone",
            abstract: "Clone a standby from the node given with -h/-p/-U/-d (pg_basebackup -X stream).",
            discussion: """
                Every check runs before anything changes. An occupied data directory or a non-empty target \
                directory of a tablespace (tablespace_mapping) is refused, naming each, unless -F/--force, which \
                removes their contents only after every check has passed. --replication-conf-only writes only \
                the standby configuration into an existing copy (-F when it is running). \
                --copy-external-config-files[=samepath|pgdata] copies the source's postgresql.conf, pg_hba.conf \
                and pg_ident.conf that live outside its data directory, read with pg_read_file() over the \
                database connection (no ssh; needs a superuser or pg_read_server_files). Barman is not \
                supported: --without-barman is accepted and changes nothing, --no-upstream-connection is \
                accepted and ignored (the source is always connected to). -R/--remote-user is accepted and \
                ignored (no ssh is used). --dry-run runs the checks and prints the plan.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("upstream-node-id"), help: "Node the standby will replicate from (default: the primary).") var upstreamNodeID: Int?
        @Flag(name: [.customShort("c"), .customLong("fast-checkpoint")], help: "Request an immediate checkpoint on the source.") var fastCheckpoint = false
        @Flag(name: [.customLong("replication-conf-only"), .customLong("recovery-conf-only")],
              help: "Only write the standby configuration into the existing data directory.") var replicationConfOnly = false
        @Flag(name: .customLong("copy-external-config-files"),
              help: "Copy configuration files outside the source's data directory (=samepath, the default, or =pgdata).") var copyExternal = false
        @Option(name: .customLong("copy-external-config-files-to"), help: .hidden) var copyExternalTo: String?
        @Option(name: .customLong("recovery-min-apply-delay"), help: "recovery_min_apply_delay of the standby (e.g. 5min; overrides the configuration).") var recoveryMinApplyDelay: String?
        @Option(name: .customLong("upstream-conninfo"), help: "primary_conninfo is built from this conninfo instead of the upstream's record.") var upstreamConninfo: String?
        @Option(name: .customLong("replication-user"), help: "User of the replication connections (overrides replication_user).") var replicationUser: String?
        @Flag(name: .customLong("verify-backup"), help: "Verify the copy with pg_verifybackup.") var verifyBackup = false
        @Option(name: [.customShort("S"), .customLong("superuser")], help: "Accepted for repmgr compatibility; connect as a superuser with -U instead.") var superuser: String?
        @Option(name: [.customShort("R"), .customLong("remote-user")], help: "Accepted and ignored: clone uses no ssh.") var remoteUser: String?
        @Flag(name: .customLong("without-barman"), help: "Accepted: Keel always clones with pg_basebackup.") var withoutBarman = false
        @Flag(name: .customLong("no-upstream-connection"), help: "Accepted and ignored (Barman only).") var noUpstreamConnection = false

        func validate() throws {
            if let copyExternalTo, StandbyClone.ConfigFileDestination(rawValue: copyExternalTo) == nil {
                throw ValidationError("--copy-external-config-files: unknown value \"\(copyExternalTo)\" (use samepath or pgdata)")
            }
            if let recoveryMinApplyDelay, !StandbyCloneOptionCheck.isDuration(recoveryMinApplyDelay) {
                throw ValidationError("--recovery-min-apply-delay: invalid value \"\(recoveryMinApplyDelay)\" (an integer with an optional unit ms, s, min, h or d)")
            }
        }

        func execute() async throws {
            let destination = copyExternal || copyExternalTo != nil
                ? StandbyClone.ConfigFileDestination(rawValue: copyExternalTo ?? "samepath") : nil
            let options = StandbyClone.Options(upstreamNodeID: upstreamNodeID, fastCheckpoint: fastCheckpoint, pgBindir: global.pgBindir,
                                               replicationConfOnly: replicationConfOnly, copyExternalConfigFiles: destination,
                                               recoveryMinApplyDelay: recoveryMinApplyDelay, upstreamConninfo: upstreamConninfo,
                                               replicationUser: replicationUser, verifyBackup: verifyBackup)
            try await perform {
                try await StandbyClone(context: try global.makeContext(), options: options).run()
                return 0
            }
        }
    }

    struct Register: KeelCommand {
        static let configuration = CommandConfiguration(
            commandName: "register",
            abstract: "Register this running standby with the primary.",
            discussion: """
                -F/--force overwrites an existing record and registers a standby that is not running (give the \
                primary with -h/-p/-d then). The upstream (--upstream-node-id) must be registered: Keel creates \
                no placeholder record for it (register the upstream first). --wait-sync[=SECONDS] waits until the \
                record has replicated to this standby (no limit without a value; exit 20 on timeout).
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("upstream-node-id"), help: "Upstream node (default: the primary).") var upstreamNodeID: Int?
        @Option(name: .customLong("wait-start"), help: "Seconds to wait for the local server to start (default 30).") var waitStart: Int = 30
        @Flag(name: .customLong("wait-sync"), help: "Wait for the record to replicate to this standby (--wait-sync=SECONDS: at most that long).") var waitSync = false
        @Option(name: .customLong("wait-sync-timeout"), help: .hidden) var waitSyncTimeout: Int?

        func execute() async throws {
            let sync = waitSync || waitSyncTimeout != nil ? (waitSyncTimeout ?? 0) : nil
            try await perform {
                try await StandbyRegister(context: try global.makeContext(),
                                          options: .init(upstreamNodeID: upstreamNodeID, waitStart: waitStart, waitSync: sync)).run()
                return 0
            }
        }
    }

    struct Unregister: KeelCommand {
        static let configuration = CommandConfiguration(commandName: "unregister", abstract: "Remove a standby's record (this node, or --node-id N from anywhere).")
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("node-id"), help: "Node to unregister (default: this node).") var nodeID: Int?

        func validate() throws { try NodeIDOption.check(nodeID) }

        func execute() async throws {
            try await perform { try await NodeUnregister(context: try global.makeContext(), type: .standby, nodeID: nodeID).run(); return 0 }
        }
    }

    struct Promote: KeelCommand {
        static let configuration = CommandConfiguration(
            commandName: "promote",
            abstract: "Promote this standby to primary.",
            discussion: """
                Refused (exit 8) when this node is not a standby, another registered node is running as a primary, \
                or WAL replay is paused. Promotes with pg_promote() (or service_promote_command) and waits up to \
                promote_check_timeout seconds; then records this node as the primary, the former primary as \
                inactive, increments the voting term and records the event standby_promote. \
                --siblings-follow: the other standbys of the former primary then follow this node (keel standby \
                follow run on each, over ssh or locally); never use it inside promote_command. \
                --dry-run checks and prints what would be done.
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var remote: RemoteUserOption
        @Flag(name: .customLong("siblings-follow"), help: "Make the other standbys of the former primary follow this node.") var siblingsFollow = false

        func execute() async throws {
            try await perform {
                _ = try await StandbyPromote(context: try global.makeContext(),
                                             options: .init(siblingsFollow: siblingsFollow, remoteUser: remote.remoteUser)).run()
                return 0
            }
        }
    }

    struct Follow: KeelCommand {
        static let configuration = CommandConfiguration(
            commandName: "follow",
            abstract: "Make this running standby follow a new upstream (default: the running primary).",
            discussion: """
                Checks the follow target's system identifier and timeline history (exit 23 when this standby has \
                diverged: rewind it with "keel node rejoin --force-rewind"), creates its replication slot on the \
                target (use_replication_slots), sets primary_conninfo and primary_slot_name with ALTER SYSTEM and \
                reloads (restarts with standby_follow_restart), waits up to standby_follow_timeout seconds for \
                streaming, drops the slot on the former upstream, records the new upstream and the event \
                standby_follow. --dry-run checks and prints what would be done.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("upstream-node-id"), help: "Node to follow (default: the node running as primary).") var upstreamNodeID: Int?
        @Flag(name: [.customShort("w"), .customShort("W"), .customLong("wait")],
              help: "Wait up to primary_follow_timeout seconds for the node to follow to become reachable.") var wait = false

        func execute() async throws {
            try await perform {
                _ = try await StandbyFollow(context: try global.makeContext(),
                                            options: .init(upstreamNodeID: upstreamNodeID, wait: wait)).run()
                return 0
            }
        }
    }

    struct Switchover: KeelCommand {
        static let configuration = CommandConfiguration(
            commandName: "switchover",
            abstract: "Promote this standby and demote the current primary to its standby, without data loss.",
            discussion: """
                Run on the standby to promote. Checks the primary, the replication lag (replication_lag_critical; \
                --force to override), free walsenders and slots; pauses keeld everywhere (not with \
                --repmgrd-no-pause); stops the primary with "keel node service --action=stop --checkpoint" run on \
                its host (ssh, or locally), confirms its clean shutdown (shutdown_check_timeout) and that this node \
                received its shutdown checkpoint (--always-promote to promote anyway); promotes; rejoins the old \
                primary with "keel node rejoin" (--force-rewind[=PATH], --config-files passed on); \
                --siblings-follow makes the other standbys follow; unpauses keeld (--repmgrd-force-unpause: on \
                every node, also where it was paused before). -S/--superuser is accepted and ignored: Keel's \
                checks need no superuser connection. --dry-run runs every check and prints the plan. \
                Exit 18: failed, nothing changed; exit 22: incomplete, the commands to run next are printed.
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var remote: RemoteUserOption
        @Flag(name: .customLong("siblings-follow"), help: "Make the other standbys of the old primary follow this node.") var siblingsFollow = false
        @Flag(name: .customLong("force-rewind"), help: "Let the old primary's rejoin run pg_rewind when needed (--force-rewind=PATH: that pg_rewind).") var forceRewind = false
        @Option(name: .customLong("force-rewind-path"), help: .hidden) var forceRewindPath: String?
        @Flag(name: .customLong("always-promote"), help: "Promote even if this node did not receive the old primary's shutdown checkpoint.") var alwaysPromote = false
        @Option(name: .customLong("config-files"), help: "Comma-separated files passed to the old primary's node rejoin.") var configFiles: String?
        @Flag(name: .customLong("repmgrd-no-pause"), help: "Do not pause keeld during the switchover.") var noPause = false
        @Flag(name: .customLong("repmgrd-force-unpause"), help: "Afterwards unpause keeld on every node, also where it was paused before.") var forceUnpause = false
        @Option(name: [.customShort("S"), .customLong("superuser")], help: "Accepted and ignored: no superuser connection is needed.") var superuser: String?

        func validate() throws {
            if noPause && forceUnpause { throw ValidationError("--repmgrd-no-pause and --repmgrd-force-unpause cannot be used together") }
        }

        func execute() async throws {
            let files = (configFiles ?? "").split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
            let options = StandbySwitchover.Options(siblingsFollow: siblingsFollow, forceRewind: forceRewind, alwaysPromote: alwaysPromote,
                                                    configFiles: files, remoteUser: remote.remoteUser,
                                                    rewindPath: forceRewindPath.flatMap { $0.isEmpty ? nil : $0 },
                                                    noPause: noPause, forceUnpause: forceUnpause)
            try await perform {
                _ = try await StandbySwitchover(context: try global.makeContext(), options: options).run()
                return 0
            }
        }
    }
}

import ArgumentParser

/// `-R/--remote-user`: the ssh user for the commands an operation runs on other nodes (switchover,
/// `--siblings-follow`, cluster matrix|crosscheck), as repmgr's option of the same name.
struct RemoteUserOption: ParsableArguments {
    @Option(name: [.customShort("R"), .customLong("remote-user")], help: "SSH user for commands run on other nodes (default: ssh's).")
    var remoteUser: String?
}

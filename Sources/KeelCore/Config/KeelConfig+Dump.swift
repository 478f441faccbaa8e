/// `--dump-config`: the parsed settings, as repmgr 5.3 prints them right after reading the file.
extension KeelConfig {
    /// One `key|value` line per key of `ConfigSettings.all`, in the table's order, with the effective
    /// value (explicit or default; `ConfigValue.description`'s spelling). Any password inside a value
    /// (a conninfo's `password=`, a URI's `:secret@`) is masked. Source: repmgr's `dump_config()`,
    /// which prints `name|value` for every item of its settings table.
    public func dumpLines() -> [String] {
        ConfigSettings.all.map { setting in
            "\(setting.name)|\(ConninfoSyntax.redactingPasswords(in: value(setting.name).description))"
        }
    }
}

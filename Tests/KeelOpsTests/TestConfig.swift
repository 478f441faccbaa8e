import KeelCore

/// A parsed configuration for node `id` (`node<id>`, data directory `/srv/pg/node<id>`) plus `extra` lines,
/// under a file name that does not exist.
func testConfig(id: Int, _ extra: String = "") -> KeelConfig {
    try! KeelConfig.parse(text: """
        node_id=\(id)
        node_name='node\(id)'
        conninfo='host=127.0.0.1 port=540\(id) user=repmgr dbname=repmgr'
        data_directory='/srv/pg/node\(id)'
        \(extra)

        """, file: "/nonexistent-keel-config-test/keel.conf")
}

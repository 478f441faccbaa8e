extension Migration {
    /// Keel's daemon table, in place of the shared memory repmgr's extension gives repmgrd
    /// (`repmgr.repmgrd_pause()`, `get_repmgrd_pid()`, `get_upstream_last_seen()`): one row per node,
    /// written on the primary and replicated, so the pause flag survives daemon restarts and every
    /// node's daemon can be listed by `keel service status`.
    static let v2DaemonState = Migration(version: 2, summary: "keeld state: pid, heartbeat, pause flag", statements: [
        """
        CREATE TABLE IF NOT EXISTS repmgr.keel_daemon (
          node_id            INTEGER     PRIMARY KEY,
          pid                INTEGER     NULL,
          host               TEXT        NULL,
          started_at         TIMESTAMPTZ NULL,
          last_heartbeat     TIMESTAMPTZ NULL,
          upstream_last_seen TIMESTAMPTZ NULL,
          state              TEXT        NULL,
          paused             BOOLEAN     NOT NULL DEFAULT FALSE
        )
        """,
    ])
}

extension Migration {
    /// repmgr 5.x's layout (`repmgr--5.3.sql`): `nodes`, `events`, `monitoring_history`, `voting_term`,
    /// views `show_nodes` and `replication_status`, without the C functions (no extension, no preload).
    static let v1RepmgrSchema = Migration(version: 1, summary: "repmgr 5.x metadata schema", statements: [
        "CREATE SCHEMA IF NOT EXISTS repmgr",
        """
        CREATE TABLE IF NOT EXISTS repmgr.nodes (
          node_id          INTEGER     PRIMARY KEY,
          upstream_node_id INTEGER     NULL REFERENCES repmgr.nodes (node_id) DEFERRABLE,
          active           BOOLEAN     NOT NULL DEFAULT TRUE,
          node_name        TEXT        NOT NULL,
          type             TEXT        NOT NULL CHECK (type IN ('primary', 'standby', 'witness', 'bdr')),
          location         TEXT        NOT NULL DEFAULT 'default',
          priority         INT         NOT NULL DEFAULT 100,
          conninfo         TEXT        NOT NULL,
          repluser         VARCHAR(63) NOT NULL,
          slot_name        TEXT        NULL,
          config_file      TEXT        NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS repmgr.events (
          node_id          INTEGER     NOT NULL,
          event            TEXT        NOT NULL,
          successful       BOOLEAN     NOT NULL DEFAULT TRUE,
          event_timestamp  TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
          details          TEXT        NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS repmgr.monitoring_history (
          primary_node_id            INTEGER     NOT NULL,
          standby_node_id            INTEGER     NOT NULL,
          last_monitor_time          TIMESTAMPTZ NOT NULL,
          last_apply_time            TIMESTAMPTZ,
          last_wal_primary_location  PG_LSN      NOT NULL,
          last_wal_standby_location  PG_LSN,
          replication_lag            BIGINT      NOT NULL,
          apply_lag                  BIGINT      NOT NULL
        )
        """,
        """
        CREATE INDEX IF NOT EXISTS idx_monitoring_history_time
          ON repmgr.monitoring_history (last_monitor_time, standby_node_id)
        """,
        "CREATE TABLE IF NOT EXISTS repmgr.voting_term (term INT NOT NULL)",
        "CREATE UNIQUE INDEX IF NOT EXISTS voting_term_restrict ON repmgr.voting_term USING btree ((TRUE))",
        "CREATE OR REPLACE RULE voting_term_delete AS ON DELETE TO repmgr.voting_term DO INSTEAD NOTHING",
        "INSERT INTO repmgr.voting_term (term) SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM repmgr.voting_term)",
        """
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_views WHERE schemaname = 'repmgr' AND viewname = 'show_nodes') THEN
            CREATE VIEW repmgr.show_nodes AS
              SELECT n.node_id, n.node_name, n.active, n.upstream_node_id,
                     un.node_name AS upstream_node_name, n.type, n.priority, n.conninfo
                FROM repmgr.nodes n
           LEFT JOIN repmgr.nodes un ON un.node_id = n.upstream_node_id;
          END IF;
        END $$
        """,
        """
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_views WHERE schemaname = 'repmgr' AND viewname = 'replication_status') THEN
            CREATE VIEW repmgr.replication_status AS
              SELECT m.primary_node_id, m.standby_node_id, n.node_name AS standby_name,
                     n.type AS node_type, n.active, m.last_monitor_time,
                     CASE WHEN n.type = 'standby' THEN m.last_wal_primary_location END AS last_wal_primary_location,
                     m.last_wal_standby_location,
                     CASE WHEN n.type = 'standby' THEN pg_catalog.pg_size_pretty(m.replication_lag) END AS replication_lag,
                     CASE WHEN n.type = 'standby' THEN
                       CASE WHEN m.replication_lag > 0 THEN pg_catalog.age(pg_catalog.now(), m.last_apply_time)
                            ELSE '0'::INTERVAL END
                     END AS replication_time_lag,
                     CASE WHEN n.type = 'standby' THEN pg_catalog.pg_size_pretty(m.apply_lag) END AS apply_lag,
                     pg_catalog.age(pg_catalog.now(), m.last_monitor_time) AS communication_time_lag
                FROM repmgr.monitoring_history m
                JOIN repmgr.nodes n ON m.standby_node_id = n.node_id
               WHERE (m.standby_node_id, m.last_monitor_time) IN
                     (SELECT standby_node_id, max(last_monitor_time) FROM repmgr.monitoring_history GROUP BY 1);
          END IF;
        END $$
        """,
    ])
}

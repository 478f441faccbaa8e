extension Migration {
    /// `synchronous_mode`'s record: the quorum every acknowledged commit satisfies, written by the
    /// primary's keeld and replicated, so that the standbys' elections know it after the primary is lost.
    /// One row (`id` = 1).
    static let v3SyncQuorum = Migration(version: 3, summary: "synchronous_mode: the recorded quorum", statements: [
        """
        CREATE TABLE IF NOT EXISTS repmgr.keel_sync_quorum (
          id          INTEGER     PRIMARY KEY CHECK (id = 1),
          generation  BIGINT      NOT NULL,
          quorum      INTEGER     NOT NULL,
          members     TEXT        NOT NULL,
          recorded_at TIMESTAMPTZ NOT NULL DEFAULT pg_catalog.now()
        )
        """,
    ])
}

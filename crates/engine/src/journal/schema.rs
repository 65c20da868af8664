//! Versioned migrations, tracked in `PRAGMA user_version`.

use rusqlite::Connection;

/// Each entry moves the schema from version `i` to `i + 1`. Append only. Version 2 gives
/// the journal a random id and the outbox sequence numbers that are never reused, so event
/// ids (`<journal id>-<seq>`) stay unique for the relay's duplicate check. Version 3 adds
/// cloud uploads: one row per shot, and the finished parts of a multipart upload with
/// their ETags, so a restart sends only the parts still missing. Version 4 adds tethered
/// cameras: the files seen on each card (what was there before the session, what was
/// taken, what was deleted after verification), the last status of each camera, and the
/// requests (`shotline capture`, `shotline camera set`) a running engine carries out.
/// Version 5 adds the proof of backup: which verified copy went into which ASC MHL
/// generation of which root (the library, or a target), each sealed generation, and
/// what `shotline verify --repair` did. Version 6 adds the live gallery: each frame's
/// previews, the shares (a session opened to guests) and which frames each share has
/// published. Version 7 adds guests' answers and the XMP sidecars written from them.
/// Version 8 records when each frame's previews went to the studio's own dashboard.
/// Version 9 adds shot lists: each session's items (code, name, views), the item being
/// shot, and each frame's item, view and number within it. Version 10 keeps each
/// session's own metadata (`--meta`, the window's session dialog) over `[metadata]`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE shots (
    id              INTEGER PRIMARY KEY,
    session         TEXT    NOT NULL,
    source_kind     TEXT    NOT NULL,
    source_path     TEXT    NOT NULL,
    source_size     INTEGER NOT NULL,
    source_mtime_ns INTEGER NOT NULL,
    original        TEXT    NOT NULL,
    rel_path        TEXT,
    state           TEXT    NOT NULL,
    size            INTEGER,
    hash            TEXT,
    duplicate_of    INTEGER REFERENCES shots(id),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_ms      INTEGER NOT NULL,
    stored_ms       INTEGER
);
CREATE UNIQUE INDEX shots_rel_path ON shots(rel_path) WHERE rel_path IS NOT NULL;
CREATE INDEX shots_hash ON shots(hash) WHERE state = 'stored';
CREATE INDEX shots_source ON shots(source_path, source_size, source_mtime_ns);
CREATE INDEX shots_state ON shots(state);

CREATE TABLE jobs (
    shot_id         INTEGER NOT NULL REFERENCES shots(id),
    target          TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    rel_path        TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    hash            TEXT,
    verified_ms     INTEGER,
    PRIMARY KEY (shot_id, target)
);
CREATE INDEX jobs_pending ON jobs(target, state, next_attempt_ms);

CREATE TABLE sessions (
    name     TEXT PRIMARY KEY,
    next_seq INTEGER NOT NULL
);

CREATE TABLE outbox (
    seq      INTEGER PRIMARY KEY,
    id       TEXT    NOT NULL UNIQUE,
    channel  TEXT    NOT NULL,
    ts_ms    INTEGER NOT NULL,
    event    TEXT    NOT NULL
);
"#,
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('journal_id', lower(hex(randomblob(8))));
DROP TABLE outbox;
CREATE TABLE outbox (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    id       TEXT    UNIQUE,
    channel  TEXT    NOT NULL,
    ts_ms    INTEGER NOT NULL,
    event    TEXT    NOT NULL
);
"#,
    r#"
CREATE TABLE uploads (
    shot_id         INTEGER PRIMARY KEY REFERENCES shots(id),
    key             TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    upload_id       TEXT,
    part_size       INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    done_ms         INTEGER
);
CREATE INDEX uploads_state ON uploads(state, next_attempt_ms);
CREATE TABLE upload_parts (
    shot_id     INTEGER NOT NULL REFERENCES shots(id),
    upload_id   TEXT    NOT NULL,
    part_number INTEGER NOT NULL,
    etag        TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    PRIMARY KEY (shot_id, upload_id, part_number)
);
"#,
    r#"
CREATE TABLE card_files (
    camera      TEXT    NOT NULL,
    folder      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    mtime       INTEGER NOT NULL,
    session     TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    source_path TEXT,
    PRIMARY KEY (camera, folder, name, size, mtime)
);
CREATE INDEX card_files_source ON card_files(source_path);
CREATE TABLE card_baselines (
    camera  TEXT NOT NULL,
    session TEXT NOT NULL,
    PRIMARY KEY (camera, session)
);
CREATE TABLE cameras (
    port       TEXT    PRIMARY KEY,
    status     TEXT    NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE camera_requests (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    port       TEXT,
    action     TEXT    NOT NULL,
    arg        TEXT    NOT NULL DEFAULT '',
    state      TEXT    NOT NULL,
    result     TEXT,
    created_ms INTEGER NOT NULL,
    fired_ms   INTEGER
);
"#,
    r#"
CREATE TABLE sealed (
    root       TEXT    NOT NULL,
    shot_id    INTEGER NOT NULL REFERENCES shots(id),
    generation INTEGER NOT NULL,
    PRIMARY KEY (root, shot_id)
);
CREATE TABLE seals (
    root       TEXT    NOT NULL,
    generation INTEGER NOT NULL,
    file       TEXT    NOT NULL,
    frames     INTEGER NOT NULL,
    sealed_ms  INTEGER NOT NULL,
    PRIMARY KEY (root, generation)
);
CREATE TABLE repairs (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms   INTEGER NOT NULL,
    shot_id INTEGER NOT NULL REFERENCES shots(id),
    place   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    detail  TEXT    NOT NULL
);
"#,
    r#"
CREATE TABLE previews (
    shot_id  INTEGER PRIMARY KEY REFERENCES shots(id),
    state    TEXT    NOT NULL,
    width    INTEGER,
    height   INTEGER,
    error    TEXT,
    made_ms  INTEGER NOT NULL
);
CREATE TABLE shares (
    id          TEXT    PRIMARY KEY,
    session     TEXT    NOT NULL,
    title       TEXT,
    token       TEXT,
    link        TEXT,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    revoked_ms  INTEGER,
    registered  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE share_frames (
    share        TEXT    NOT NULL REFERENCES shares(id),
    shot_id      INTEGER NOT NULL REFERENCES shots(id),
    published_ms INTEGER NOT NULL,
    PRIMARY KEY (share, shot_id)
);
"#,
    r#"
CREATE TABLE answers (
    share    TEXT    NOT NULL REFERENCES shares(id),
    id       TEXT    NOT NULL,
    seq      INTEGER NOT NULL,
    ts_ms    INTEGER NOT NULL,
    sub      TEXT    NOT NULL,
    name     TEXT,
    shot_id  INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    value    TEXT    NOT NULL,
    PRIMARY KEY (share, id)
);
CREATE INDEX answers_by_shot ON answers (shot_id, ts_ms);
ALTER TABLE shares ADD COLUMN answers_seq INTEGER NOT NULL DEFAULT 0;
CREATE TABLE sidecars (
    shot_id    INTEGER PRIMARY KEY REFERENCES shots(id),
    rating     INTEGER,
    label      TEXT,
    state      TEXT    NOT NULL,
    error      TEXT,
    written_ms INTEGER NOT NULL
);
"#,
    r#"
ALTER TABLE previews ADD COLUMN studio_ms INTEGER;
-- Frames from before this version are not sent to the dashboard (0: not to be sent).
UPDATE previews SET studio_ms = 0;
CREATE INDEX previews_for_studio ON previews (shot_id) WHERE studio_ms IS NULL AND state = 'made';
"#,
    r#"
CREATE TABLE shotlist_items (
    session TEXT    NOT NULL,
    code    TEXT    NOT NULL,
    name    TEXT    NOT NULL,
    views   TEXT    NOT NULL,
    pos     INTEGER NOT NULL,
    PRIMARY KEY (session, code)
);
CREATE TABLE shotlist_current (
    session TEXT PRIMARY KEY,
    code    TEXT NOT NULL
);
ALTER TABLE shots ADD COLUMN item_code TEXT;
ALTER TABLE shots ADD COLUMN item_view TEXT;
ALTER TABLE shots ADD COLUMN item_n INTEGER;
CREATE INDEX shots_by_item ON shots (session, item_code);
"#,
    r#"
CREATE TABLE session_meta (
    session TEXT NOT NULL,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (session, key)
);
"#,
    r#"
ALTER TABLE shares ADD COLUMN pin_hash TEXT;
ALTER TABLE shares ADD COLUMN downloads TEXT NOT NULL DEFAULT 'off';
ALTER TABLE shares ADD COLUMN choose_min INTEGER;
ALTER TABLE shares ADD COLUMN choose_max INTEGER;
ALTER TABLE shares ADD COLUMN activity_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shares ADD COLUMN watermark TEXT;
ALTER TABLE shares ADD COLUMN watermark_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE share_frames ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shares ADD COLUMN settings_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shares ADD COLUMN link_exp_ms INTEGER;
CREATE INDEX answers_by_kind ON answers (kind, share);
CREATE TABLE mail_outbox (
    key        TEXT    PRIMARY KEY,
    subject    TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_ms INTEGER NOT NULL,
    sent_ms    INTEGER,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE share_activity (
    share   TEXT    NOT NULL REFERENCES shares(id),
    id      TEXT    NOT NULL,
    seq     INTEGER NOT NULL,
    ts_ms   INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    sub     TEXT,
    name    TEXT,
    detail  TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (share, id)
);
CREATE TABLE selections (
    share        TEXT    NOT NULL REFERENCES shares(id),
    submit_id    TEXT    NOT NULL,
    sub          TEXT    NOT NULL,
    name         TEXT,
    submitted_ms INTEGER NOT NULL,
    frames       TEXT    NOT NULL,
    export       TEXT,
    done_ms      INTEGER,
    PRIMARY KEY (share, submit_id)
);
"#,
    // The thumbnail first, the 2048 px preview after: whether a share has sent it.
    r#"
ALTER TABLE share_frames ADD COLUMN preview INTEGER NOT NULL DEFAULT 1;
"#,
    r#"
ALTER TABLE shares ADD COLUMN live INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shares ADD COLUMN live_overlay TEXT;
"#,
];

/// Bring the schema up to date in one transaction that holds SQLite's write lock: two
/// processes opening a new journal at once (a run and a `status`) never both apply a step,
/// and a reader sees either no schema or the whole current one, never a step in between.
pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    if version(conn)? == MIGRATIONS.len() {
        return Ok(()); // the common case takes no lock
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let current: usize = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > MIGRATIONS.len() {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISMATCH),
            Some(format!(
                "the journal is from a newer Shotline (schema {current}, this build knows {})",
                MIGRATIONS.len()
            )),
        ));
    }
    for sql in &MIGRATIONS[current..] {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len())?;
    tx.commit()
}

/// The schema version of an open journal.
pub(super) fn version(conn: &Connection) -> rusqlite::Result<usize> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// The schema version this build writes.
pub const VERSION: usize = MIGRATIONS.len();

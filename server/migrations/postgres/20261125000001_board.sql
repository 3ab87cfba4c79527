-- Urna bulletin board, PostgreSQL schema (`docs/PROTOCOL.md`).
-- The log is `log_entries`: append-only, enforced by the triggers below. Every other
-- table is derived from the log and written in the same transaction as the log rows.

CREATE TABLE log_entries (
    idx         BIGINT   PRIMARY KEY CHECK (idx >= 0),
    election_id BYTEA    NOT NULL CHECK (length(election_id) = 32),
    kind        SMALLINT NOT NULL CHECK (kind BETWEEN 1 AND 255),
    leaf_hash   BYTEA    NOT NULL CHECK (length(leaf_hash) = 32),
    entry       BYTEA    NOT NULL
);
CREATE INDEX log_entries_by_election ON log_entries (election_id, idx);
CREATE INDEX log_entries_by_leaf_hash ON log_entries (leaf_hash);

CREATE FUNCTION urna_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % rejected', TG_TABLE_NAME, TG_OP;
END;
$$;

CREATE TRIGGER log_entries_append_only
    BEFORE UPDATE OR DELETE ON log_entries
    FOR EACH ROW EXECUTE FUNCTION urna_reject_change();
CREATE TRIGGER log_entries_no_truncate
    BEFORE TRUNCATE ON log_entries
    FOR EACH STATEMENT EXECUTE FUNCTION urna_reject_change();

-- The sequencer's head: one row holding the log size, locked FOR UPDATE by every
-- appender, so that concurrent server processes take turns.
CREATE TABLE log_head (
    id   SMALLINT PRIMARY KEY CHECK (id = 1),
    size BIGINT   NOT NULL CHECK (size >= 0)
);
INSERT INTO log_head (id, size) VALUES (1, 0);

CREATE TABLE checkpoints (
    size BIGINT PRIMARY KEY CHECK (size >= 0),
    root BYTEA  NOT NULL CHECK (length(root) = 32),
    note TEXT   NOT NULL
);
CREATE TRIGGER checkpoints_append_only
    BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION urna_reject_change();
CREATE TRIGGER checkpoints_no_truncate
    BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION urna_reject_change();

CREATE TABLE elections (
    election_id    BYTEA  PRIMARY KEY CHECK (length(election_id) = 32),
    manifest_index BIGINT NOT NULL UNIQUE REFERENCES log_entries (idx)
);

CREATE TABLE trustee_entries (
    election_id BYTEA    NOT NULL,
    kind        SMALLINT NOT NULL,
    trustee     BIGINT   NOT NULL,
    other       BIGINT   NOT NULL DEFAULT 0,
    log_index   BIGINT   NOT NULL REFERENCES log_entries (idx),
    PRIMARY KEY (election_id, kind, trustee, other)
);

CREATE TABLE registration_codes (
    election_id BYTEA  NOT NULL,
    code_hash   BYTEA  NOT NULL CHECK (length(code_hash) = 32),
    log_index   BIGINT NOT NULL REFERENCES log_entries (idx),
    used_index  BIGINT REFERENCES log_entries (idx),
    PRIMARY KEY (election_id, code_hash)
);

CREATE TABLE registrations (
    election_id BYTEA  NOT NULL,
    position    BIGINT NOT NULL CHECK (position >= 0),
    commitment  BYTEA  NOT NULL CHECK (length(commitment) = 32),
    log_index   BIGINT NOT NULL REFERENCES log_entries (idx),
    PRIMARY KEY (election_id, position),
    UNIQUE (election_id, commitment)
);

CREATE TABLE ballots (
    election_id BYTEA  NOT NULL,
    nullifier   BYTEA  NOT NULL CHECK (length(nullifier) = 32),
    digest      BYTEA  NOT NULL CHECK (length(digest) = 32),
    log_index   BIGINT NOT NULL UNIQUE REFERENCES log_entries (idx),
    PRIMARY KEY (election_id, nullifier, digest)
);

CREATE TABLE nullifiers (
    election_id   BYTEA  NOT NULL,
    nullifier     BYTEA  NOT NULL,
    latest_index  BIGINT NOT NULL REFERENCES log_entries (idx),
    latest_digest BYTEA  NOT NULL,
    PRIMARY KEY (election_id, nullifier)
);

CREATE TABLE ciphertext_fingerprints (
    election_id BYTEA  NOT NULL,
    fingerprint BYTEA  NOT NULL CHECK (length(fingerprint) = 32),
    nullifier   BYTEA  NOT NULL,
    log_index   BIGINT NOT NULL REFERENCES log_entries (idx),
    PRIMARY KEY (election_id, fingerprint)
);

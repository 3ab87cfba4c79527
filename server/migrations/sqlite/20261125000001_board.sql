-- Urna bulletin board, SQLite schema (`docs/PROTOCOL.md`).
-- The log is `log_entries`: append-only, enforced by the triggers below. Every other
-- table is derived from the log and written in the same transaction as the log rows.

CREATE TABLE log_entries (
    idx         INTEGER PRIMARY KEY CHECK (idx >= 0),
    election_id BLOB    NOT NULL CHECK (length(election_id) = 32),
    kind        INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 255),
    leaf_hash   BLOB    NOT NULL CHECK (length(leaf_hash) = 32),
    entry       BLOB    NOT NULL
) STRICT;
CREATE INDEX log_entries_by_election ON log_entries (election_id, idx);
CREATE INDEX log_entries_by_leaf_hash ON log_entries (leaf_hash);

CREATE TRIGGER log_entries_no_update BEFORE UPDATE ON log_entries
BEGIN
    SELECT RAISE(ABORT, 'log_entries is append-only: UPDATE rejected');
END;
CREATE TRIGGER log_entries_no_delete BEFORE DELETE ON log_entries
BEGIN
    SELECT RAISE(ABORT, 'log_entries is append-only: DELETE rejected');
END;

-- The sequencer's head: one row holding the log size. Appenders update it in the
-- same transaction as their rows; an entry's index must equal the size before it.
CREATE TABLE log_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL CHECK (size >= 0)
) STRICT;
INSERT INTO log_head (id, size) VALUES (1, 0);

-- Every signed checkpoint, by tree size; append-only as well.
CREATE TABLE checkpoints (
    size INTEGER PRIMARY KEY CHECK (size >= 0),
    root BLOB    NOT NULL CHECK (length(root) = 32),
    note TEXT    NOT NULL
) STRICT;
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'checkpoints is append-only: UPDATE rejected');
END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'checkpoints is append-only: DELETE rejected');
END;

CREATE TABLE elections (
    election_id    BLOB    PRIMARY KEY CHECK (length(election_id) = 32),
    manifest_index INTEGER NOT NULL UNIQUE REFERENCES log_entries (idx)
) STRICT;

CREATE TABLE trustee_entries (
    election_id BLOB    NOT NULL,
    kind        INTEGER NOT NULL,
    trustee     INTEGER NOT NULL,
    other       INTEGER NOT NULL DEFAULT 0,
    log_index   INTEGER NOT NULL REFERENCES log_entries (idx),
    PRIMARY KEY (election_id, kind, trustee, other)
) STRICT;

CREATE TABLE registration_codes (
    election_id BLOB    NOT NULL,
    code_hash   BLOB    NOT NULL CHECK (length(code_hash) = 32),
    log_index   INTEGER NOT NULL REFERENCES log_entries (idx),
    used_index  INTEGER REFERENCES log_entries (idx),
    PRIMARY KEY (election_id, code_hash)
) STRICT;

CREATE TABLE registrations (
    election_id BLOB    NOT NULL,
    position    INTEGER NOT NULL CHECK (position >= 0),
    commitment  BLOB    NOT NULL CHECK (length(commitment) = 32),
    log_index   INTEGER NOT NULL REFERENCES log_entries (idx),
    PRIMARY KEY (election_id, position),
    UNIQUE (election_id, commitment)
) STRICT;

CREATE TABLE ballots (
    election_id BLOB    NOT NULL,
    nullifier   BLOB    NOT NULL CHECK (length(nullifier) = 32),
    digest      BLOB    NOT NULL CHECK (length(digest) = 32),
    log_index   INTEGER NOT NULL UNIQUE REFERENCES log_entries (idx),
    PRIMARY KEY (election_id, nullifier, digest)
) STRICT;

-- The re-vote rule: the ballot that counts for each nullifier.
CREATE TABLE nullifiers (
    election_id   BLOB    NOT NULL,
    nullifier     BLOB    NOT NULL,
    latest_index  INTEGER NOT NULL REFERENCES log_entries (idx),
    latest_digest BLOB    NOT NULL,
    PRIMARY KEY (election_id, nullifier)
) STRICT;

CREATE TABLE ciphertext_fingerprints (
    election_id BLOB    NOT NULL,
    fingerprint BLOB    NOT NULL CHECK (length(fingerprint) = 32),
    nullifier   BLOB    NOT NULL,
    log_index   INTEGER NOT NULL REFERENCES log_entries (idx),
    PRIMARY KEY (election_id, fingerprint)
) STRICT;

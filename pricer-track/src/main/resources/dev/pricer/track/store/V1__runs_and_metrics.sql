-- Portable SQL (SQLite and PostgreSQL): no AUTOINCREMENT, no WITHOUT ROWID, no vendor types.
CREATE TABLE projects (
    name        VARCHAR(200) PRIMARY KEY,
    created_ms  BIGINT NOT NULL
);

CREATE TABLE runs (
    id           VARCHAR(64) PRIMARY KEY,
    project      VARCHAR(200) NOT NULL REFERENCES projects (name),
    name         VARCHAR(400) NOT NULL,
    colour       VARCHAR(16) NOT NULL,
    status       VARCHAR(16) NOT NULL,
    started_ms   BIGINT NOT NULL,
    ended_ms     BIGINT,
    heartbeat_ms BIGINT NOT NULL,
    host         VARCHAR(200),
    git_commit   VARCHAR(64),
    command      TEXT,
    notes        TEXT,
    last_seq     BIGINT NOT NULL DEFAULT 0,
    updated_ms   BIGINT NOT NULL,
    synced_seq   BIGINT NOT NULL DEFAULT 0,
    synced_ms    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_project ON runs (project, started_ms);

CREATE TABLE run_config (
    run_id  VARCHAR(64) NOT NULL REFERENCES runs (id),
    key     VARCHAR(400) NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);

CREATE TABLE run_tags (
    run_id  VARCHAR(64) NOT NULL REFERENCES runs (id),
    tag     VARCHAR(200) NOT NULL,
    PRIMARY KEY (run_id, tag)
);

-- One row per metric key of a run, with its latest point, so listings never scan histories and the
-- points' index holds a number instead of the run id and key.
CREATE TABLE series (
    id            BIGINT PRIMARY KEY,
    run_id        VARCHAR(64) NOT NULL REFERENCES runs (id),
    key           VARCHAR(400) NOT NULL,
    last_seq      BIGINT NOT NULL,
    last_segment  INTEGER NOT NULL,
    last_step     BIGINT NOT NULL,
    last_value    DOUBLE PRECISION,
    UNIQUE (run_id, key)
);

-- value NULL stands for NaN (SQLite stores NaN as NULL); infinities are stored as they are.
CREATE TABLE metrics (
    series_id  BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    segment    INTEGER NOT NULL,
    step       BIGINT NOT NULL,
    wall_ms    BIGINT NOT NULL,
    value      DOUBLE PRECISION,
    PRIMARY KEY (series_id, seq)
);

CREATE TABLE tokens (
    sha256      VARCHAR(64) PRIMARY KEY,
    name        VARCHAR(200) NOT NULL,
    created_ms  BIGINT NOT NULL
);

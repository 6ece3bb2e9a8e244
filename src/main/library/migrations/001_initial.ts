// 001: the first schema. Tables for datasets, classes, media, items, labels, splits,
// models, training runs, jobs, gallery outputs, collections and settings.
// Ids are TEXT (UUID v4); times are ISO-8601 UTC strings; JSON columns hold TEXT.

import { type Migration } from './types'

export const migration001: Migration = {
  version: 1,
  name: 'initial',
  up(db) {
    db.exec(`
      CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL              -- JSON
      ) STRICT;

      CREATE TABLE datasets (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL COLLATE NOCASE UNIQUE,
        description TEXT NOT NULL DEFAULT '',
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      ) STRICT;

      CREATE TABLE classes (
        id         TEXT PRIMARY KEY,
        dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        name       TEXT NOT NULL COLLATE NOCASE,
        color      TEXT NOT NULL,
        position   INTEGER NOT NULL,
        UNIQUE (dataset_id, name)
      ) STRICT;
      CREATE INDEX classes_by_dataset ON classes (dataset_id, position);

      -- Content-addressed files in the library: path is relative to the library folder
      -- (media/ab/abcdef....png or outputs/...). The browser host serves files by sha256
      -- through this table only.
      CREATE TABLE media (
        sha256     TEXT PRIMARY KEY CHECK (length(sha256) = 64),
        path       TEXT NOT NULL,
        mime       TEXT NOT NULL,
        bytes      INTEGER NOT NULL,
        width      INTEGER,
        height     INTEGER,
        thumb_path TEXT,
        created_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE items (
        id            TEXT PRIMARY KEY,
        dataset_id    TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        sha256        TEXT NOT NULL REFERENCES media(sha256),
        original_name TEXT NOT NULL DEFAULT '',
        source_path   TEXT,
        added_at      TEXT NOT NULL,
        UNIQUE (dataset_id, sha256)
      ) STRICT;
      CREATE INDEX items_by_dataset ON items (dataset_id, added_at);
      CREATE INDEX items_by_sha ON items (sha256);

      -- One label per item and source: a human label and a model suggestion can coexist.
      CREATE TABLE labels (
        item_id    TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        source     TEXT NOT NULL CHECK (source IN ('human', 'model')),
        class_id   TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
        confidence REAL,
        model_id   TEXT REFERENCES models(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (item_id, source)
      ) STRICT;
      CREATE INDEX labels_by_class ON labels (class_id, source);

      CREATE TABLE splits (
        item_id TEXT PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
        split   TEXT NOT NULL CHECK (split IN ('train', 'val', 'test'))
      ) STRICT;
      CREATE INDEX splits_by_split ON splits (split);

      CREATE TABLE models (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL COLLATE NOCASE UNIQUE,
        kind       TEXT NOT NULL,
        source     TEXT NOT NULL CHECK (source IN ('builtin', 'imported', 'trained')),
        path       TEXT NOT NULL,             -- folder relative to the library (models/<id>)
        config     TEXT NOT NULL DEFAULT '{}', -- JSON
        parent_id  TEXT REFERENCES models(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX models_by_parent ON models (parent_id);

      CREATE TABLE jobs (
        id          TEXT PRIMARY KEY,
        kind        TEXT NOT NULL,
        title       TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('queued', 'running', 'paused', 'done', 'failed', 'cancelled', 'interrupted')),
        heavy       INTEGER NOT NULL DEFAULT 0,
        params      TEXT NOT NULL DEFAULT 'null', -- JSON
        checkpoint  TEXT,                        -- JSON, written by the job handler
        phase       TEXT,
        done        REAL NOT NULL DEFAULT 0,
        total       REAL,
        rate        REAL,
        eta_s       REAL,
        error       TEXT,
        result      TEXT,                        -- JSON
        control     TEXT CHECK (control IN ('cancel', 'pause')), -- a request from another process
        runner_pid  INTEGER,                     -- process running it, to tell a crash from a live run
        created_at  TEXT NOT NULL,
        started_at  TEXT,
        finished_at TEXT,
        updated_at  TEXT NOT NULL
      ) STRICT;
      CREATE INDEX jobs_by_state ON jobs (state, created_at);
      CREATE INDEX jobs_by_created ON jobs (created_at);

      CREATE TABLE training_runs (
        id            TEXT PRIMARY KEY,
        job_id        TEXT REFERENCES jobs(id) ON DELETE SET NULL,
        base_model_id TEXT REFERENCES models(id) ON DELETE SET NULL,
        model_id      TEXT REFERENCES models(id) ON DELETE SET NULL, -- the model it produced
        dataset_id    TEXT REFERENCES datasets(id) ON DELETE SET NULL,
        objective     TEXT NOT NULL,
        params        TEXT NOT NULL DEFAULT '{}', -- JSON
        metrics       TEXT NOT NULL DEFAULT '{}', -- JSON: final and per-epoch
        state         TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        finished_at   TEXT
      ) STRICT;
      CREATE INDEX runs_by_model ON training_runs (base_model_id, created_at);
      CREATE INDEX runs_by_dataset ON training_runs (dataset_id);

      CREATE TABLE gallery_outputs (
        id         TEXT PRIMARY KEY,
        sha256     TEXT NOT NULL REFERENCES media(sha256),
        model_id   TEXT REFERENCES models(id) ON DELETE SET NULL,
        params     TEXT NOT NULL DEFAULT '{}', -- JSON: temperature, top-k/p, class, prefix...
        seed       INTEGER,
        favorite   INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX gallery_by_created ON gallery_outputs (created_at);
      CREATE INDEX gallery_by_model ON gallery_outputs (model_id, created_at);

      CREATE TABLE collections (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL COLLATE NOCASE UNIQUE,
        created_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE collection_outputs (
        collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        output_id     TEXT NOT NULL REFERENCES gallery_outputs(id) ON DELETE CASCADE,
        added_at      TEXT NOT NULL,
        PRIMARY KEY (collection_id, output_id)
      ) STRICT;
      CREATE INDEX collection_outputs_by_output ON collection_outputs (output_id);
    `)
  }
}

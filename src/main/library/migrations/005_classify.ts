// 005: batch classification (issue 9). One row per run (its id is the classify job's id) and
// one row per file the run met: the prediction or the reason it could not be read, and what was
// done with the file (copy, move, or the plan of a dry run), so a resumed run skips files it
// already has and `undo` can put moved files back.

import { type Migration } from './types'

export const migration005: Migration = {
  version: 5,
  name: 'classify',
  up(db) {
    db.exec(`
      CREATE TABLE classify_runs (
        id          TEXT PRIMARY KEY,          -- the classify job's id
        model_id    TEXT,
        model_name  TEXT NOT NULL,
        params      TEXT NOT NULL,             -- JSON: folders, threshold, action, root, out, ...
        labels      TEXT NOT NULL DEFAULT '[]',-- JSON: the model's classes
        created_at  TEXT NOT NULL,
        undone_at   TEXT
      ) STRICT;

      CREATE TABLE classify_files (
        run_id        TEXT NOT NULL REFERENCES classify_runs(id) ON DELETE CASCADE,
        seq           INTEGER NOT NULL,        -- order the run met the file in
        path          TEXT NOT NULL,           -- absolute path where it was read
        status        TEXT NOT NULL CHECK (status IN ('ok', 'error')),
        label         TEXT,                    -- top label, or 'unsure' below the threshold
        top_label     TEXT,                    -- the model's top class whatever the threshold
        confidence    REAL,
        top_k         TEXT,                    -- JSON [{label, probability}]
        error         TEXT,
        size          INTEGER,
        mtime_ms      REAL,
        sha256        TEXT,
        action        TEXT,                    -- 'copy' | 'move' | 'plan' | null
        dest          TEXT,
        action_status TEXT,                    -- 'pending' | 'done' | 'skipped' | 'undone' | 'planned'
        action_note   TEXT,
        corrected     TEXT,                    -- a label the user set
        PRIMARY KEY (run_id, path)
      ) STRICT;
      CREATE UNIQUE INDEX classify_files_by_seq ON classify_files (run_id, seq);
      CREATE INDEX classify_files_by_label ON classify_files (run_id, label, confidence);
    `)
  }
}

// 006: dataset snapshots (issue 7). A snapshot freezes a dataset's items, human labels and
// splits under a name; training runs record the one they used. Rows are compact: the
// snapshot's integer key, the item id, the content hash as 32 raw bytes, the class as an
// index into the snapshot's class list and the split as 0/1/2 (train/val/test; NULL = none).
// Item ids carry no foreign key: a snapshot outlives the items removed after it.

import { type Migration } from './types'

export const migration006: Migration = {
  version: 6,
  name: 'snapshots',
  up(db) {
    db.exec(`
      CREATE TABLE snapshots (
        n           INTEGER PRIMARY KEY,
        id          TEXT NOT NULL UNIQUE,
        dataset_id  TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        name        TEXT NOT NULL,
        note        TEXT NOT NULL DEFAULT '',
        content_hash TEXT NOT NULL CHECK (length(content_hash) = 64),
        classes     TEXT NOT NULL DEFAULT '[]',   -- JSON: class names in the dataset's order then
        item_count  INTEGER NOT NULL,
        auto        INTEGER NOT NULL DEFAULT 0 CHECK (auto IN (0, 1)),  -- taken by a training run
        created_at  TEXT NOT NULL,
        UNIQUE (dataset_id, name)
      ) STRICT;
      CREATE INDEX snapshots_by_dataset ON snapshots (dataset_id, created_at);

      CREATE TABLE snapshot_items (
        snapshot INTEGER NOT NULL REFERENCES snapshots(n) ON DELETE CASCADE,
        item_id  TEXT NOT NULL,
        sha256   BLOB NOT NULL CHECK (length(sha256) = 32),
        name     TEXT NOT NULL,
        class    INTEGER,                      -- index into snapshots.classes; NULL = unlabelled
        split    INTEGER CHECK (split IN (0, 1, 2)),
        PRIMARY KEY (snapshot, item_id)
      ) STRICT, WITHOUT ROWID;
    `)
  }
}

// 004: what the Label panel needs (issue 8). Cached classifier predictions per model and
// item (a job fills them; the grid reads them), and the label change log behind undo /
// redo, kept in the library so every window and the CLI see the same history.

import { type Migration } from './types'

export const migration004: Migration = {
  version: 4,
  name: 'labelling',
  up(db) {
    db.exec(`
      -- One prediction of a classifier model for one item. class_name is the model's
      -- label; it maps to the dataset class of the same name (case-insensitive) when read.
      CREATE TABLE predictions (
        model_id   TEXT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        item_id    TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        class_name TEXT NOT NULL COLLATE NOCASE,
        confidence REAL NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (model_id, item_id)
      ) STRICT;
      CREATE INDEX predictions_by_item ON predictions (item_id);

      -- One undoable label change (a key press, a bulk assign): the labels of each
      -- touched item and source before and after, as JSON. undone = 1 entries form the
      -- redo stack; a new change drops them.
      CREATE TABLE label_changes (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        action     TEXT NOT NULL,
        changes    TEXT NOT NULL,
        undone     INTEGER NOT NULL DEFAULT 0 CHECK (undone IN (0, 1)),
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX label_changes_by_dataset ON label_changes (dataset_id, undone, id);
    `)
  }
}

// 007: dataset curation with a model (issue 7). A row per curation run; the pooled features
// (and bits per token) of each item under a model, cached so a paused or repeated run only
// computes what is new; and the per-item scores of the latest run per model: out-of-fold
// self-confidence with the suggested class (likely mislabels), bits per token and the feature
// k-nearest-neighbour distance (outliers), and the feature near-duplicate group.

import { type Migration } from './types'

export const migration007: Migration = {
  version: 7,
  name: 'curation',
  up(db) {
    db.exec(`
      CREATE TABLE curation_runs (
        id          TEXT PRIMARY KEY,          -- the curation job's id
        dataset_id  TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        model_id    TEXT REFERENCES models(id) ON DELETE SET NULL,
        model_name  TEXT NOT NULL,
        params      TEXT NOT NULL,             -- JSON: layer, folds, seed, l2, neighbours, outlierZ, duplicateThreshold
        summary     TEXT,                      -- JSON CurationSummary once finished
        created_at  TEXT NOT NULL,
        finished_at TEXT
      ) STRICT;
      CREATE INDEX curation_runs_by_dataset ON curation_runs (dataset_id, finished_at);

      -- Pooled features of one item from one layer of a model, float32 little-endian, and the
      -- item's bits per token under the model's lm_head (NULL without one).
      CREATE TABLE curation_features (
        model_id       TEXT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        item_id        TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        layer          INTEGER NOT NULL CHECK (layer >= 1),
        features       BLOB NOT NULL,
        bits_per_token REAL,
        PRIMARY KEY (model_id, layer, item_id)
      ) STRICT;
      CREATE INDEX curation_features_by_item ON curation_features (item_id);

      CREATE TABLE curation_scores (
        model_id             TEXT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        item_id              TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        run_id               TEXT NOT NULL REFERENCES curation_runs(id) ON DELETE CASCADE,
        given_class_id       TEXT REFERENCES classes(id) ON DELETE SET NULL,
        self_confidence      REAL,             -- out-of-fold probability of the given label
        suggested_class_id   TEXT REFERENCES classes(id) ON DELETE SET NULL,
        suggested_confidence REAL,
        likely_mislabel      INTEGER NOT NULL DEFAULT 0 CHECK (likely_mislabel IN (0, 1)),
        bits_per_token       REAL,
        feature_outlier      REAL,             -- mean cosine distance to the k nearest items
        duplicate_group      INTEGER,          -- feature near-duplicate group within the run
        PRIMARY KEY (model_id, item_id)
      ) STRICT;
      CREATE INDEX curation_scores_by_item ON curation_scores (item_id);
      CREATE INDEX curation_scores_by_run ON curation_scores (run_id, likely_mislabel, self_confidence);
    `)
  }
}

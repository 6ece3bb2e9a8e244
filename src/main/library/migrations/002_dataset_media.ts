// 002: what dataset import and curation need beyond 001. Per-file image facts
// (format, perceptual hashes) in their own table keyed by content hash, item flags
// set by curation scans, and indexes for the grid's sort orders.

import { type Migration } from './types'

export const migration002: Migration = {
  version: 2,
  name: 'dataset_media',
  up(db) {
    db.exec(`
      -- Facts about one image file, computed once at import. dhash/phash are 64-bit
      -- perceptual hashes as 16 hex digits (NULL when the image could not be hashed).
      CREATE TABLE media_info (
        sha256 TEXT PRIMARY KEY REFERENCES media(sha256) ON DELETE CASCADE,
        format TEXT NOT NULL,
        dhash  TEXT CHECK (dhash IS NULL OR length(dhash) = 16),
        phash  TEXT CHECK (phash IS NULL OR length(phash) = 16)
      ) STRICT;

      -- Marks left on items by curation (e.g. 'near-duplicate'); a filter in the grid.
      CREATE TABLE item_flags (
        item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        flag    TEXT NOT NULL,
        PRIMARY KEY (item_id, flag)
      ) STRICT;
      CREATE INDEX item_flags_by_flag ON item_flags (flag);

      CREATE INDEX items_by_dataset_name ON items (dataset_id, original_name);
    `)
  }
}

// 003: what the gallery needs beyond 001 (issue 10): rating, the recipe's searchable
// fields in their own columns (model name, class, image index, completion source),
// scores (bits per token, classifier confidence), the job that made each output, and
// gallery preferences ("send new outputs to" a collection).

import { type Migration } from './types'

export const migration003: Migration = {
  version: 3,
  name: 'gallery',
  up(db) {
    db.exec(`
      ALTER TABLE gallery_outputs ADD COLUMN rating INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5);
      ALTER TABLE gallery_outputs ADD COLUMN model_name TEXT NOT NULL DEFAULT '';
      ALTER TABLE gallery_outputs ADD COLUMN class_name TEXT;
      ALTER TABLE gallery_outputs ADD COLUMN image_index INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE gallery_outputs ADD COLUMN source_sha256 TEXT;
      ALTER TABLE gallery_outputs ADD COLUMN duration_ms REAL;
      ALTER TABLE gallery_outputs ADD COLUMN bits_per_token REAL;
      ALTER TABLE gallery_outputs ADD COLUMN class_confidence REAL;
      ALTER TABLE gallery_outputs ADD COLUMN job_id TEXT;
      -- Lower-cased words of the recipe for text search.
      ALTER TABLE gallery_outputs ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
      CREATE INDEX gallery_by_seed ON gallery_outputs (seed);
      CREATE INDEX gallery_by_class ON gallery_outputs (class_name, created_at);

      CREATE TABLE gallery_prefs (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL              -- JSON
      ) STRICT;
    `)
  }
}

// 009: stored facts on items for large libraries (issue 12: 200k items). The grid filters by
// effective class (the human label, else the model's), label source and split, and sorts by file
// size; stats group by all three. Read through the labels, splits and media tables, every such
// query walked the whole dataset. Each item now carries those four facts in its own row, kept
// right by triggers on labels, splits, items and media (whatever code path writes them, foreign
// key cascades included), and indexes put (dataset, filter, sort key, id) together so a filtered
// page is read in order from one index and counts and stats read one covering index. Existing
// libraries are backfilled here. The curation sorts get (run, score, item) indexes.
// test/unit/library/item-facts.test.ts checks the triggers; test/integration/resources-query-plans
// .test.ts the plans.

import { type Migration } from './types'

/** Recomputes the label facts of item `x` (an SQL expression) from its label rows. */
const relabel = (x: string): string => `
  UPDATE items SET
    label_class_id = coalesce(
      (SELECT class_id FROM labels WHERE item_id = ${x} AND source = 'human'),
      (SELECT class_id FROM labels WHERE item_id = ${x} AND source = 'model')),
    label_source = CASE
      WHEN EXISTS (SELECT 1 FROM labels WHERE item_id = ${x} AND source = 'human') THEN 'human'
      WHEN EXISTS (SELECT 1 FROM labels WHERE item_id = ${x} AND source = 'model') THEN 'model'
      ELSE 'none' END
  WHERE id = ${x};`

export const migration009: Migration = {
  version: 9,
  name: 'item_facts',
  up(db) {
    db.exec(`
      ALTER TABLE items ADD COLUMN label_class_id TEXT;           -- human label's class, else the model's
      ALTER TABLE items ADD COLUMN label_source TEXT NOT NULL DEFAULT 'none' CHECK (label_source IN ('human', 'model', 'none'));
      ALTER TABLE items ADD COLUMN split TEXT CHECK (split IS NULL OR split IN ('train', 'val', 'test'));
      ALTER TABLE items ADD COLUMN file_bytes INTEGER NOT NULL DEFAULT 0; -- media.bytes of its file

      UPDATE items SET
        label_class_id = coalesce(
          (SELECT class_id FROM labels WHERE item_id = items.id AND source = 'human'),
          (SELECT class_id FROM labels WHERE item_id = items.id AND source = 'model')),
        label_source = CASE
          WHEN EXISTS (SELECT 1 FROM labels WHERE item_id = items.id AND source = 'human') THEN 'human'
          WHEN EXISTS (SELECT 1 FROM labels WHERE item_id = items.id AND source = 'model') THEN 'model'
          ELSE 'none' END,
        split = (SELECT split FROM splits WHERE item_id = items.id),
        file_bytes = coalesce((SELECT bytes FROM media WHERE sha256 = items.sha256), 0);

      -- A new item has no labels or split yet (their foreign keys need the item first).
      CREATE TRIGGER items_facts_on_insert AFTER INSERT ON items BEGIN
        UPDATE items SET file_bytes = coalesce((SELECT bytes FROM media WHERE sha256 = NEW.sha256), 0) WHERE id = NEW.id;
      END;
      CREATE TRIGGER items_facts_on_sha AFTER UPDATE OF sha256 ON items BEGIN
        UPDATE items SET file_bytes = coalesce((SELECT bytes FROM media WHERE sha256 = NEW.sha256), 0) WHERE id = NEW.id;
      END;
      CREATE TRIGGER items_facts_on_media AFTER UPDATE OF bytes ON media BEGIN
        UPDATE items SET file_bytes = NEW.bytes WHERE sha256 = NEW.sha256;
      END;

      CREATE TRIGGER items_facts_label_insert AFTER INSERT ON labels BEGIN ${relabel('NEW.item_id')} END;
      CREATE TRIGGER items_facts_label_delete AFTER DELETE ON labels BEGIN ${relabel('OLD.item_id')} END;
      CREATE TRIGGER items_facts_label_update AFTER UPDATE OF item_id, source, class_id ON labels BEGIN
        ${relabel('OLD.item_id')}
        ${relabel('NEW.item_id')}
      END;

      CREATE TRIGGER items_facts_split_insert AFTER INSERT ON splits BEGIN
        UPDATE items SET split = NEW.split WHERE id = NEW.item_id;
      END;
      CREATE TRIGGER items_facts_split_update AFTER UPDATE OF item_id, split ON splits BEGIN
        UPDATE items SET split = NULL WHERE id = OLD.item_id AND OLD.item_id IS NOT NEW.item_id;
        UPDATE items SET split = NEW.split WHERE id = NEW.item_id;
      END;
      CREATE TRIGGER items_facts_split_delete AFTER DELETE ON splits BEGIN
        UPDATE items SET split = NULL WHERE id = OLD.item_id;
      END;

      -- A page of the grid under any one filter, in any sort order, read from one index.
      CREATE INDEX items_by_dataset_bytes_id ON items (dataset_id, file_bytes, id);
      CREATE INDEX items_by_dataset_id ON items (dataset_id, id);
      CREATE INDEX items_by_class_name ON items (dataset_id, label_class_id, original_name, id);
      CREATE INDEX items_by_class_added ON items (dataset_id, label_class_id, added_at, id);
      CREATE INDEX items_by_class_bytes ON items (dataset_id, label_class_id, file_bytes, id);
      CREATE INDEX items_by_source_name ON items (dataset_id, label_source, original_name, id);
      CREATE INDEX items_by_source_added ON items (dataset_id, label_source, added_at, id);
      CREATE INDEX items_by_source_bytes ON items (dataset_id, label_source, file_bytes, id);
      CREATE INDEX items_by_split_name ON items (dataset_id, split, original_name, id);
      CREATE INDEX items_by_split_added ON items (dataset_id, split, added_at, id);
      CREATE INDEX items_by_split_bytes ON items (dataset_id, split, file_bytes, id);
      -- datasets.stats: counts per (class, split, source) from this index alone.
      CREATE INDEX items_stats ON items (dataset_id, label_class_id, split, label_source);

      -- The curation sorts page through the latest run's scores in order.
      CREATE INDEX curation_scores_by_self_confidence ON curation_scores (run_id, self_confidence, item_id);
      CREATE INDEX curation_scores_by_bits ON curation_scores (run_id, bits_per_token, item_id);
      CREATE INDEX curation_scores_by_outlier ON curation_scores (run_id, feature_outlier, item_id);
    `)
  }
}

// 008: indexes for large libraries (issue 12: 200k items). The grid orders items by name or
// date with the id as tie-breaker, so the (dataset, key) indexes gain the id and a page is read
// in index order without sorting the whole dataset; they replace the 001/002 indexes they
// extend. The gallery filters by class (case-insensitive), stars, rating and job; each gets an
// index that matches its comparison. test/integration/resources-query-plans.test.ts checks the
// plans with EXPLAIN QUERY PLAN.

import { type Migration } from './types'

export const migration008: Migration = {
  version: 8,
  name: 'indexes',
  up(db) {
    db.exec(`
      CREATE INDEX items_by_dataset_added_id ON items (dataset_id, added_at, id);
      CREATE INDEX items_by_dataset_name_id ON items (dataset_id, original_name, id);
      DROP INDEX items_by_dataset;
      DROP INDEX items_by_dataset_name;

      CREATE INDEX gallery_by_class_nocase ON gallery_outputs (class_name COLLATE NOCASE, created_at);
      CREATE INDEX gallery_by_favorite ON gallery_outputs (favorite, created_at);
      CREATE INDEX gallery_by_rating ON gallery_outputs (rating, created_at);
      CREATE INDEX gallery_by_job ON gallery_outputs (job_id);
    `)
  }
}

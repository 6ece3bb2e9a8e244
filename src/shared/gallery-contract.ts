// Contract pieces for generation and the gallery (issue 10). Joined into the method
// table in contract.ts; kept here so that file stays a table of contents.

import { z } from 'zod'

const Id = z.string().min(1).max(128)
const Ref = z.string().trim().min(1).max(200)
const FilePath = z.string().trim().min(1).max(4096)
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex')
const CollectionName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .refine((s) => !/[\r\n\0]/.test(s), 'must be one line without control characters')

/**
 * Everything needed to make one image again: in SQLite (gallery_outputs.params) and in the
 * PNG's "tessera" tEXt chunk. The image is number `index` of a request with this seed; each
 * image has its own PRNG stream (seed, index), so it does not depend on count or batch size.
 */
export interface GenerationRecipe {
  generator: string
  model: { id: string; name: string; weightsSha256: string }
  seed: number
  index: number
  greedy: boolean
  temperature: number
  /** 0: off. */
  topK: number
  /** 1: off. */
  topP: number
  /** Conditioning class name, or null for "any". */
  class: string | null
  /** Rows of the source image kept (0 without completion). */
  keepRows: number
  /** The image completed: its library sha256 and the path it came from. */
  complete: { sha256: string | null; file: string | null; keepRows: number } | null
  /** Images in the request and per batch (do not change pixels). */
  count: number
  batchSize: number | null
  /** Wall time of the batch that made it, per image. */
  durationMs: number | null
}

export interface GalleryItem {
  id: string
  sha256: string
  modelId: string | null
  modelName: string
  recipe: GenerationRecipe
  seed: number
  index: number
  className: string | null
  starred: boolean
  /** 0 (unrated) or 1-5. */
  rating: number
  /** Bits per token under its model. */
  bitsPerToken: number | null
  /** The classifier's probability for the requested class (models with a classifier head). */
  classConfidence: number | null
  sourceSha256: string | null
  durationMs: number | null
  jobId: string | null
  width: number | null
  height: number | null
  collections: string[]
  createdAt: string
}

export interface GalleryPage {
  items: GalleryItem[]
  total: number
  offset: number
}

export interface GalleryCollection {
  id: string
  name: string
  count: number
  createdAt: string
}

export interface GalleryCollections {
  collections: GalleryCollection[]
  /** New outputs also go to this collection ("send new outputs to"). */
  sendTo: string | null
}

/** A live frame of a running generation: the current batch's images, rows so far. */
export interface GeneratePreview {
  jobId: string
  /** Index of the batch's first image in the request. */
  batchStart: number
  /** PNG data URLs at model resolution, one per image of the batch. */
  images: string[]
  rowsDone: number
  rows: number
  count: number
  /** Images finished and saved so far. */
  finished: number
}

export const GallerySort = z.enum(['newest', 'oldest', 'bits', 'bits-desc', 'confidence', 'confidence-desc', 'rating'])

export const GalleryListInput = z
  .object({
    modelId: Id.optional(),
    className: z.string().max(200).optional(),
    /** ISO date-times (inclusive from, exclusive to). */
    from: z.string().max(40).optional(),
    to: z.string().max(40).optional(),
    starred: z.boolean().optional(),
    minRating: z.number().int().min(0).max(5).optional(),
    collectionId: Id.optional(),
    seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
    jobId: Id.optional(),
    /** Recipe fields equal to a value, e.g. { temperature: 0.9, topK: 8 }. */
    params: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,40}$/), z.union([z.string().max(200), z.number(), z.boolean(), z.null()])).optional(),
    /** Words that must all occur in the recipe (model name, class, seed, parameters). */
    q: z.string().max(200).optional(),
    sort: GallerySort.default('newest'),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(50_000).default(200)
  })
  .strict()

const Ids = z.array(Id).min(1).max(50_000)

export const GalleryStarInput = z.object({ ids: Ids, starred: z.boolean() }).strict()
export const GalleryRateInput = z.object({ ids: Ids, rating: z.number().int().min(0).max(5) }).strict()
export const GalleryIdsInput = z.object({ ids: Ids }).strict()
export const GalleryExportInput = z.object({ ids: Ids, out: FilePath }).strict()
export const GalleryReadRecipeInput = z
  .object({ path: FilePath.optional(), pngBase64: z.string().max(20_000_000).optional() })
  .strict()
  .refine((v) => (v.path === undefined) !== (v.pngBase64 === undefined), 'give either path or pngBase64')
export const GalleryImportInput = z.object({ paths: z.array(FilePath).min(1).max(10_000) }).strict()
export const GalleryAddToDatasetInput = z
  .object({
    ids: Ids,
    dataset: Ref,
    /** Label each with its class (created in the dataset when missing); false: unlabelled. */
    labelled: z.boolean().default(true),
    /** 'train' (default) keeps generated images out of test splits; 'none' leaves them for split assignment. */
    split: z.enum(['train', 'none']).default('train')
  })
  .strict()
export const GalleryCollectionCreateInput = z.object({ name: CollectionName }).strict()
export const GalleryCollectionAddInput = z
  .object({ collectionId: Id, ids: Ids, /** Take them out of every other collection. */ move: z.boolean().optional() })
  .strict()
export const GalleryCollectionRemoveInput = z.object({ collectionId: Id, ids: Ids }).strict()
export const GallerySendToInput = z.object({ collectionId: Id.nullable() }).strict()

export const GenerateStartInput = z
  .object({
    model: Ref,
    count: z.number().int().min(1).max(10_000).default(8),
    batchSize: z.number().int().min(1).max(256).optional(),
    temperature: z.number().gt(0).max(10).default(1),
    topK: z.number().int().min(0).max(100_000).default(0),
    topP: z.number().gt(0).max(1).default(1),
    greedy: z.boolean().default(false),
    /** Absent: a random seed, chosen when the job is queued (and shown in its params). */
    seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
    /** Index of the first image's PRNG stream (recall of image i uses i). */
    firstIndex: z.number().int().min(0).max(2 ** 31).default(0),
    /** Conditioning class name; absent or null: any. */
    className: z.string().trim().min(1).max(200).nullable().optional(),
    complete: z
      .object({ sha256: Sha256.optional(), path: FilePath.optional(), keepRows: z.number().int().min(0).max(1024) })
      .strict()
      .refine((v) => (v.sha256 === undefined) !== (v.path === undefined), 'give either sha256 or path of the image to complete')
      .optional(),
    /** Save outputs to the gallery (default true). */
    gallery: z.boolean().default(true)
  })
  .strict()

export { Ref as GalleryRef }

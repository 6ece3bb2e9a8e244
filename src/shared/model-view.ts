// Pure helpers of the Models panel (used by src/renderer/src/models; unit-tested in
// test/unit/samples/models-format.test.ts). Models as a lineage tree: each base model followed by its fine-tunes (depth-first), roots
// in the order built-in, imported, trained, then by name. A model whose base was removed is a root.

import type { ModelSummary } from './contract'

export interface TreeRow {
  model: ModelSummary
  depth: number
  /** Ancestors of the row were collapsed into it: none here (kept for a future collapse). */
  children: number
}

const sourceOrder: Record<ModelSummary['source'], number> = { builtin: 0, imported: 1, trained: 2 }

export function lineageRows(models: readonly ModelSummary[]): TreeRow[] {
  const byId = new Map(models.map((m) => [m.id, m]))
  const kids = new Map<string, ModelSummary[]>()
  const roots: ModelSummary[] = []
  for (const m of models) {
    if (m.parentId && byId.has(m.parentId) && m.parentId !== m.id) {
      const list = kids.get(m.parentId) ?? []
      list.push(m)
      kids.set(m.parentId, list)
    } else roots.push(m)
  }
  const cmp = (a: ModelSummary, b: ModelSummary): number =>
    sourceOrder[a.source] - sourceOrder[b.source] || a.name.localeCompare(b.name, undefined, { sensitivity: 'base', numeric: true })
  const rows: TreeRow[] = []
  const seen = new Set<string>()
  const visit = (m: ModelSummary, depth: number): void => {
    if (seen.has(m.id)) return
    seen.add(m.id)
    const children = (kids.get(m.id) ?? []).slice().sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    rows.push({ model: m, depth, children: children.length })
    for (const c of children) visit(c, depth + 1)
  }
  for (const r of roots.sort(cmp)) visit(r, 0)
  // A parent cycle (should not happen) would leave models unvisited: list them as roots.
  for (const m of models) if (!seen.has(m.id)) visit(m, 0)
  return rows
}

/** Palette colours in [-1, 1] -> CSS rgb(). */
export function paletteCss(colour: readonly number[]): string {
  const c = (v: number | undefined): number => Math.max(0, Math.min(255, Math.round((((v ?? -1) + 1) / 2) * 255)))
  return `rgb(${c(colour[0])}, ${c(colour[1])}, ${c(colour[2])})`
}

export function formatParameters(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`
  return String(n)
}

export function modelIdFromHash(hash: string): string | null {
  const m = /^#\/models\/([^/?#]+)/.exec(hash)
  return m?.[1] ? decodeURIComponent(m[1]) : null
}

const obj = (v: unknown): Record<string, unknown> | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null)

/** "bitsPerTokenConditional" -> "bits per token conditional"; "classification.macroF1" -> "classification: macro F1". */
export function metricLabel(key: string): string {
  return key
    .split('.')
    .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/\bF 1\b/g, 'F1').toLowerCase().replace(/\bf1\b/, 'F1').replace(/\bece\b/, 'ECE'))
    .join(': ')
}

const fmtNumber = (v: number): string => (Number.isInteger(v) ? String(v) : Math.abs(v) < 1 ? v.toFixed(4) : v.toFixed(3))

/** An ISO timestamp as "2026-11-28 19:36 UTC"; null for any other string. */
const isoMinute = (v: string): string | null => {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(\.\d+)?)?Z$/.exec(v)
  return m ? `${m[1]} ${m[2]} UTC` : null
}

/**
 * Scalar metrics, two levels of nesting flattened ("classification.accuracy", or a built-in
 * model's "mnistTest.linearProbe.accuracy"); matrices, lists and per-class tables left out, and so
 * is the evaluated model's path (the card is that model); timestamps read as UTC minutes.
 */
export function scalarMetrics(metrics: unknown): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = []
  const walk = (v: unknown, prefix: string, depth: number): void => {
    if (typeof v === 'number' && Number.isFinite(v)) out.push({ key: prefix, value: fmtNumber(v) })
    else if (typeof v === 'string' && depth > 0 && v.length < 80 && !/(^|\.)model$/.test(prefix)) out.push({ key: prefix, value: isoMinute(v) ?? v })
    else if (depth < 3 && obj(v)) for (const [k, x] of Object.entries(obj(v)!)) if (k !== 'perClass' && k !== 'confusion' && k !== 'misclassified') walk(x, prefix ? `${prefix}.${k}` : k, depth + 1)
  }
  walk(metrics, '', 0)
  return out
}

/**
 * The base model the Train panel offers first for a dataset: among the generative models, the one
 * that knows most of the dataset's class names (as classifier labels or generation classes), then a
 * built-in over an imported over a fine-tuned one, then the oldest (the original rather than a later
 * fine-tune of it). Null when there is no generative model.
 */
export function defaultBase(models: ModelSummary[], datasetClasses: string[]): ModelSummary | null {
  const wanted = new Set(datasetClasses.map((c) => c.trim().toLowerCase()))
  const overlap = (m: ModelSummary): number => new Set([...m.classes, ...m.conditionClasses].map((c) => c.trim().toLowerCase()).filter((c) => wanted.has(c))).size
  const rank: Record<ModelSummary['source'], number> = { builtin: 0, imported: 1, trained: 2 }
  const candidates = models.filter((m) => m.kind.startsWith('imagegpt'))
  candidates.sort((a, b) => overlap(b) - overlap(a) || rank[a.source] - rank[b.source] || a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name))
  return candidates[0] ?? null
}

/**
 * How long a fine-tune trained and which weights it kept, from its lineage.training record:
 * "130 steps of 16", or "stopped early at step 91 of 130 (batch 16) · weights of step 26, the best
 * validation". Null when the record has no step count.
 */
export function trainingStepsText(training: Record<string, unknown>): string | null {
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
  const plan = training.plan && typeof training.plan === 'object' ? (training.plan as Record<string, unknown>) : {}
  const steps = num(training.steps)
  if (steps === null) return null
  const planned = num(plan.steps)
  const batch = num(plan.batchSize)
  const best = num(training.bestStep)
  const ofBatch = batch !== null ? ` of ${batch}` : ''
  const ran = training.stoppedEarly === true && planned !== null ? `stopped early at step ${steps} of ${planned}${batch !== null ? ` (batch ${batch})` : ''}` : `${steps} step${steps === 1 ? '' : 's'}${ofBatch}`
  return best !== null && best !== steps ? `${ran} · weights of step ${best}, the best validation` : ran
}

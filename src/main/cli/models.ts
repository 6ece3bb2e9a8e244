// `tessera model …` and `tessera generate`: the model registry from the command line.
// Models are named by id or unique name everywhere. Scores stream as one JSON line per image
// (with --json: one array); generation progress goes to stderr.

import path from 'node:path'
import { type Command, InvalidArgumentError, Option } from 'commander'

import { type MethodInput, type MethodName, type MethodResult, type ModelDetail, type ModelScore, type ModelSummary } from '../../shared/contract'
import { type AppContext } from '../context'
import { writeNewFile } from '../files'
import { generateTarget } from '../gallery/cli'
import { generateToFolder } from '../models/generate'

export interface CliHelpers {
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodResult<M>>
  print<T>(value: T, human: (v: T) => string): void
  open(): { ctx: AppContext }
  json(): boolean
  fail(): void
}

const integer =
  (flag: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  (v: string): number => {
    const n = Number(v)
    if (!/^\s*-?\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'}, not "${v}".`)
    }
    return n
  }

const real =
  (flag: string) =>
  (v: string): number => {
    const n = Number(v)
    if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${flag} must be a number, not "${v}".`)
    return n
  }

const SOURCE: Record<ModelSummary['source'], string> = { builtin: 'built-in', imported: 'imported', trained: 'fine-tuned' }

/** One model per line, as the Models panel words it; a fine-tune names its base (by name when it is in `names`). */
export const summaryLine = (m: ModelSummary, names: Map<string, string> = new Map()): string =>
  `${m.id}  ${m.name}  ${m.kind}  (${SOURCE[m.source]}${m.parentId ? ` from ${names.get(m.parentId) ?? m.parentId}` : ''})`

function detailText(m: ModelDetail): string {
  const c = m.config
  const lines = [`${m.id}  ${m.name}`]
  if (c) {
    lines.push(
      `  ${m.architecture}: ${c.side}x${c.side} pixels, ${c.paletteSize} colours, width ${c.width}, ${c.layers} layers, ${c.heads} heads, ${m.parameters.toLocaleString('en-US')} parameters`
    )
  }
  if (m.onnx) {
    const o = m.onnx
    const p = o.preprocess
    lines.push(
      `  ${m.architecture}: input "${o.input.name}" ${o.input.layout.toUpperCase()} ${o.input.width}x${o.input.height}${o.input.dynamicBatch ? ' (any batch)' : ''}, output "${o.output.name}" of ${o.output.dim}, ${m.parameters.toLocaleString('en-US')} parameters`,
      `  preprocessing: ${p.crop ? `short side to ${p.resize}, centre crop` : 'resize'}, x * ${+p.rescale.toPrecision(6)}, mean [${p.mean.join(', ')}], std [${p.std.join(', ')}]`
    )
  }
  lines.push(`  source: ${m.source}${m.parentId ? `, base model ${m.parentId}` : ''}; weights sha256 ${m.weightsSha256.slice(0, 16)}…`)
  if (m.classes.length) lines.push(`  classifier labels: ${m.classes.join(', ')}`)
  if (m.conditionClasses.length) lines.push(`  conditioning classes: ${m.conditionClasses.join(', ')}`)
  if (m.children.length) lines.push(`  fine-tuned models: ${m.children.map((x) => x.name).join(', ')}`)
  const u = m.usage
  if (u.trainingRuns || u.labels || u.outputs) lines.push(`  used by: ${u.trainingRuns} training runs, ${u.labels} predicted labels, ${u.outputs} gallery images`)
  return lines.join('\n')
}

const triple =
  (flag: string) =>
  (v: string): [number, number, number] => {
    const parts = v.split(',').map((x) => Number(x.trim()))
    if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x))) throw new InvalidArgumentError(`${flag} needs three numbers like 0.5,0.5,0.5, not "${v}".`)
    return parts as [number, number, number]
  }

export function registerModelCommands(program: Command, h: CliHelpers): void {
  const model = program.command('model').alias('models').description('models in the library: import, list, show, export, remove, score, try')

  model
    .command('import <path>')
    .description('import a Hugging Face ImageGPT folder, or an ONNX image classifier / feature extractor (.onnx file or folder with model.onnx)')
    .option('--name <name>', 'name in the library (default: the folder or file name)')
    .option('--labels <file>', 'ONNX: class labels (JSON array, id2label object, or one per line); without labels the model is a feature extractor')
    .addOption(new Option('--size <px>', 'ONNX: input side, when the graph and preprocessor_config.json do not say').argParser(integer('--size', 1, 4096)))
    .addOption(new Option('--mean <r,g,b>', 'ONNX: normalisation mean (after scaling to 0..1)').argParser(triple('--mean')))
    .addOption(new Option('--std <r,g,b>', 'ONNX: normalisation standard deviation').argParser(triple('--std')))
    .option('--crop', 'ONNX: centre-crop instead of squashing')
    .action(async (folder: string, o: { name?: string; labels?: string; size?: number; mean?: [number, number, number]; std?: [number, number, number]; crop?: boolean }) => {
      const m = await h.call('models.import', {
        path: path.resolve(folder),
        ...(o.name !== undefined ? { name: o.name } : {}),
        ...(o.labels !== undefined ? { labels: path.resolve(o.labels) } : {}),
        ...(o.size !== undefined ? { size: o.size } : {}),
        ...(o.mean ? { mean: o.mean } : {}),
        ...(o.std ? { std: o.std } : {}),
        ...(o.crop ? { crop: true } : {})
      })
      h.print(m, (v) => `Imported ${detailText(v)}`)
    })

  model
    .command('list')
    .description('all models')
    .action(async () => {
      const list = await h.call('models.list', {})
      h.print(list, (l) => {
        const names = new Map(l.map((m) => [m.id, m.name]))
        return l.length ? l.map((m) => summaryLine(m, names)).join('\n') : 'No models yet. Import one with `tessera model import <folder>`.'
      })
    })

  model
    .command('show <ref>')
    .description('one model, by id or name: architecture, classes, lineage')
    .action(async (ref: string) => h.print(await h.call('models.get', { ref }), detailText))

  model
    .command('rename <ref> <name>')
    .description('rename a model')
    .action(async (ref: string, name: string) => h.print(await h.call('models.rename', { ref, name }), (v) => `Renamed: ${summaryLine(v)}`))

  model
    .command('export <ref>')
    .description('write a model to a new folder: Hugging Face layout (ImageGPT) or model.onnx + labels.json (ONNX models); never overwrites')
    .addOption(new Option('--format <format>', 'output layout').choices(['hf', 'onnx']).default('hf'))
    .requiredOption('--out <folder>', 'folder to create')
    .action(async (ref: string, o: { format: 'hf' | 'onnx'; out: string }) => {
      const r = await h.call('models.export', { ref, out: path.resolve(o.out), format: o.format })
      h.print(r, (v) => `Exported to ${v.path} (${v.files.join(', ')})`)
    })

  model
    .command('remove <ref>')
    .alias('delete')
    .description('remove a model and its files (refused while fine-tuned models name it as their base, unless --force)')
    .option('--force', 'remove even if fine-tuned models name it as their base')
    .action(async (ref: string, o: { force?: boolean }) => {
      const r = await h.call('models.remove', { ref, force: o.force === true })
      h.print(r, (v) => {
        const kept = [
          v.usage.trainingRuns && `${v.usage.trainingRuns} training runs`,
          v.usage.labels && `${v.usage.labels} predicted labels`,
          v.usage.outputs && `${v.usage.outputs} gallery images`
        ].filter(Boolean)
        return `Removed ${v.id}${v.orphaned.length ? `; ${v.orphaned.map((x) => x.name).join(', ')} no longer name a base model` : ''}${kept.length ? `; ${kept.join(', ')} stay without the link` : ''}`
      })
    })

  model
    .command('score <images...>')
    .description('bits per token of each image under a model: one JSON line per image (a bad image gets an error line)')
    .requiredOption('--model <ref>', 'model id or name')
    .action(async (images: string[], o: { model: string }) => {
      const { ctx } = h.open()
      const stream = !h.json()
      const scores: ModelScore[] = await ctx.models.score(o.model, images, (s) => {
        if (stream) process.stdout.write(JSON.stringify(s) + '\n')
      })
      if (!stream) process.stdout.write(JSON.stringify(scores, null, 2) + '\n')
      if (scores.some((s) => 'error' in s)) h.fail()
    })

  model
    .command('probe <backbone>')
    .description("fit a linear probe on an imported ONNX feature extractor over a dataset's labelled images (test split held out)")
    .requiredOption('--dataset <ref>', 'dataset id or name')
    .option('--name <name>', 'name of the new classifier')
    .addOption(new Option('--steps <n>', 'gradient steps (default 300)').argParser(integer('--steps', 1, 100_000)))
    .action(async (backbone: string, o: { dataset: string; name?: string; steps?: number }) => {
      const r = await h.call('models.probe', { backbone, dataset: o.dataset, ...(o.name ? { name: o.name } : {}), ...(o.steps ? { steps: o.steps } : {}) })
      const pct = (v: number | null): string => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`)
      h.print(r, (v) =>
        `${detailText(v.model)}\n  probe: ${v.metrics.trainImages} training images (accuracy ${pct(v.metrics.trainAccuracy)}), ${v.metrics.testImages} test images (accuracy ${pct(v.metrics.testAccuracy)})${v.metrics.skippedImages ? `, ${v.metrics.skippedImages} unreadable images skipped` : ''}`
      )
    })

  model
    .command('try <ref> <image>')
    .description("one image through a model: top classes, bits per token, and a completion of its lower half")
    .addOption(new Option('--top <k>', 'classes to show').argParser(integer('--top', 1, 100)).default(5))
    .option('--out <file>', 'also write the completion as a PNG here')
    .action(async (ref: string, image: string, o: { top: number; out?: string }) => {
      const r = await h.call('models.try', { ref, path: path.resolve(image), topK: o.top })
      if (o.out && r.completionPng) {
        const bytes = Buffer.from(r.completionPng.replace(/^data:image\/png;base64,/, ''), 'base64')
        await writeNewFile(path.resolve(o.out), bytes)
      }
      h.print(r, (v) => {
        const lines = [v.file]
        for (const t of v.top) lines.push(`  ${(t.probability * 100).toFixed(1).padStart(5)}%  ${t.label}`)
        if (v.bitsPerToken !== null) lines.push(`  ${v.bitsPerToken.toFixed(4)} bits per token`)
        if (v.embedding) lines.push(`  embedding of ${v.embedding.length} values: [${v.embedding.slice(0, 4).map((x) => x.toFixed(4)).join(', ')}${v.embedding.length > 4 ? ', …' : ''}]`)
        if (o.out && v.completionPng) lines.push(`  completion of the lower half: ${path.resolve(o.out)}`)
        return lines.join('\n')
      })
    })

  program
    .command('runtime')
    .description('which execution provider model sessions use under the current setting (settings: executionProvider)')
    .action(async () => {
      const r = await h.call('runtime.report', {})
      h.print(r, (v) =>
        [
          `setting ${v.setting}: tried ${v.requested.join(', ')}; running on ${v.active} (${v.intraOpThreads} threads, onnxruntime ${v.ortVersion})`,
          ...v.fallbacks.map((f) => `  ${f.provider} not used: ${f.reason}`)
        ].join('\n')
      )
    })

  program
    .command('generate')
    .description('generate images with a model into a folder of PNGs (the recipe is in each PNG\'s "tessera" text chunk)')
    .requiredOption('--model <ref>', 'model id or name')
    .option('--out <folder>', 'also write the PNGs to this folder (created if missing; files are never overwritten)')
    .option('--no-gallery', 'do not save the images in the gallery (then --out is needed)')
    .addOption(new Option('--count <n>', 'images to generate').argParser(integer('--count', 1, 100_000)).default(1))
    .addOption(new Option('--seed <s>', 'seed (0 .. 2^32-1); random when absent, recorded in each PNG').argParser(integer('--seed', 0, 2 ** 32 - 1)))
    .addOption(new Option('--temperature <t>', 'sampling temperature (> 0)').argParser(real('--temperature')))
    .addOption(new Option('--top-k <k>', 'sample among the k most likely colours (0: all)').argParser(integer('--top-k', 0)))
    .addOption(new Option('--top-p <p>', 'sample among the most likely colours up to this total probability').argParser(real('--top-p')))
    .option('--greedy', 'always take the most likely colour')
    .option('--class <name>', 'conditioning class (class-conditioned models)')
    .option('--complete <image>', 'keep the top rows of this image and generate the rest')
    .addOption(new Option('--keep-rows <r>', 'rows of --complete to keep (default: half)').argParser(integer('--keep-rows', 0)))
    .action(
      async (o: {
        model: string
        out?: string
        gallery?: boolean
        count: number
        seed?: number
        temperature?: number
        topK?: number
        topP?: number
        greedy?: boolean
        class?: string
        complete?: string
        keepRows?: number
      }) => {
        const { ctx } = h.open()
        const target = await generateTarget(ctx, o)
        const loaded = await ctx.models.load(o.model)
        const side = loaded.model.config.side
        const controller = new AbortController()
        const stop = (): void => {
          process.stderr.write('Stopping generation.\n')
          controller.abort()
        }
        process.once('SIGINT', stop)
        try {
          const files = await generateToFolder(ctx.models, o.model, {
            count: o.count,
            out: target.out,
            ...(o.seed !== undefined ? { seed: o.seed } : {}),
            ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
            ...(o.topK !== undefined ? { topK: o.topK } : {}),
            ...(o.topP !== undefined ? { topP: o.topP } : {}),
            ...(o.greedy ? { greedy: true } : {}),
            ...(o.class !== undefined ? { className: o.class } : {}),
            ...(o.complete !== undefined ? { complete: { file: o.complete, keepRows: o.keepRows ?? Math.floor(side / 2) } } : {}),
            signal: controller.signal,
            onRow: (p) => {
              const n = p.images.length
              process.stderr.write(`images ${p.batchStart + 1}-${p.batchStart + n} of ${o.count}: row ${p.row + 1}/${p.rows} (${p.done}/${p.total} tokens)\n`)
            }
          })
          const seed = files[0]?.seed
          const saved = await target.finish(files.map((f) => f.file))
          h.print({ model: loaded.record.id, seed, ...saved }, (v) => [...v.files, `${v.gallery.length} saved to the gallery (seed ${seed})`].join('\n'))
        } finally {
          process.off('SIGINT', stop)
        }
      }
    )
}

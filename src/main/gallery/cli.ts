// `tessera gallery list|export`, and what `tessera generate` needs to save into the gallery
// (by default; --no-gallery skips it; --out also writes the files).

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { type Command, InvalidArgumentError, Option } from 'commander'

import { type GalleryItem } from '../../shared/contract'
import { type AppContext } from '../context'
import { AppError } from '../errors'
import { type CliHelpers } from '../cli/models'

const itemLine = (i: GalleryItem): string =>
  `${i.id}  ${i.modelName}  seed ${i.seed} #${i.index}${i.className ? `  class ${i.className}` : ''}  ${i.bitsPerToken === null ? '' : `${i.bitsPerToken.toFixed(3)} bits/token`}${i.starred ? '  ★' : ''}${i.rating ? `  ${i.rating}/5` : ''}  ${i.createdAt}`

/**
 * For `tessera generate`: where the PNGs are written (--out, or a temporary folder when only the
 * gallery gets them) and, once written, adds them to the gallery and removes the temporary folder.
 */
export async function generateTarget(
  ctx: AppContext,
  o: { out?: string; gallery?: boolean }
): Promise<{ out: string; finish(files: string[]): Promise<{ files: string[]; gallery: string[] }> }> {
  if (!o.out && o.gallery === false) throw new AppError('VALIDATION', 'With --no-gallery, give --out for the files (otherwise the images would go nowhere).')
  const out = o.out ?? (await mkdtemp(path.join(tmpdir(), 'tessera-generate-')))
  return {
    out,
    async finish(files) {
      try {
        const saved = o.gallery === false ? [] : await ctx.gallery.importFiles(files)
        return { files: o.out ? files : [], gallery: saved.map((s) => s.id) }
      } finally {
        if (!o.out) await rm(out, { recursive: true, force: true })
      }
    }
  }
}

const int = (flag: string) => (v: string): number => {
  const n = Number(v)
  if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${flag} needs a whole number, not "${v}".`)
  return n
}

export function registerGalleryCommands(program: Command, h: CliHelpers): void {
  const gallery = program.command('gallery').description('generated images in the library: list, export')

  gallery
    .command('list')
    .description('generated images, newest first (filters combine)')
    .option('--model <id>', 'made by this model id')
    .option('--class <name>', 'conditioning class ("any" for unconditioned)')
    .addOption(new Option('--seed <s>', 'made with this seed').argParser(int('--seed')))
    .option('--starred', 'only starred images')
    .addOption(new Option('--min-rating <r>', 'rated at least r (1-5)').argParser(int('--min-rating')))
    .option('--collection <id>', 'in this collection')
    .option('--search <words>', 'words that must all occur in the recipe')
    .addOption(new Option('--sort <order>', 'order').choices(['newest', 'oldest', 'bits', 'bits-desc', 'confidence', 'confidence-desc', 'rating']).default('newest'))
    .addOption(new Option('--limit <n>', 'at most n images').argParser(int('--limit')).default(100))
    .action(
      async (o: { model?: string; class?: string; seed?: number; starred?: boolean; minRating?: number; collection?: string; search?: string; sort: 'newest'; limit: number }) => {
        const page = await h.call('gallery.list', {
          ...(o.model ? { modelId: o.model } : {}),
          ...(o.class ? { className: o.class } : {}),
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
          ...(o.starred ? { starred: true } : {}),
          ...(o.minRating !== undefined ? { minRating: o.minRating } : {}),
          ...(o.collection ? { collectionId: o.collection } : {}),
          ...(o.search ? { q: o.search } : {}),
          sort: o.sort,
          limit: o.limit
        })
        h.print(page, (p) => [...p.items.map(itemLine), `${p.items.length} of ${p.total} images`].join('\n'))
      }
    )

  gallery
    .command('export <ids...>')
    .description('copy images (each with its recipe in the PNG) into a folder, never overwriting')
    .requiredOption('--out <folder>', 'folder (created if missing)')
    .action(async (ids: string[], o: { out: string }) => {
      const r = await h.call('gallery.export', { ids, out: path.resolve(o.out) })
      h.print(r, (v) => v.files.join('\n'))
    })
}

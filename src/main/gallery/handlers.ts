// Handlers for generate.* and gallery.* methods. Joined into the one handler map in
// services/index.ts; the window, browser host and CLI all call these.

import { type AppContext } from '../context'
import { type Handlers } from '../services'

type GalleryMethods =
  | 'generate.start'
  | 'gallery.list'
  | 'gallery.get'
  | 'gallery.facets'
  | 'gallery.star'
  | 'gallery.rate'
  | 'gallery.delete'
  | 'gallery.export'
  | 'gallery.readRecipe'
  | 'gallery.import'
  | 'gallery.addToDataset'
  | 'gallery.collections'
  | 'gallery.createCollection'
  | 'gallery.addToCollection'
  | 'gallery.removeFromCollection'
  | 'gallery.setSendTo'

export function galleryServices(ctx: AppContext): Pick<Handlers, GalleryMethods> {
  const g = ctx.gallery
  const changed = (): void => ctx.bus.emit('library.changed', { domain: 'gallery' })
  const changing = <T>(value: T): T => {
    changed()
    return value
  }
  return {
    'generate.start': (input) => g.start(input),
    'gallery.list': (input) => g.store.list(input),
    'gallery.get': (input) => g.store.get(input.id),
    'gallery.facets': () => g.store.facets(),
    'gallery.star': (input) => changing({ updated: g.store.setStarred(input.ids, input.starred) }),
    'gallery.rate': (input) => changing({ updated: g.store.setRating(input.ids, input.rating) }),
    'gallery.delete': async (input) => changing(await g.delete(input.ids)),
    'gallery.export': (input) => g.export(input.ids, input.out),
    'gallery.readRecipe': (input) => g.readRecipeFrom(input),
    'gallery.import': (input) => g.importFiles(input.paths),
    'gallery.addToDataset': async (input) => {
      const r = await g.addToDataset(input.ids, input.dataset, { labelled: input.labelled, split: input.split })
      ctx.bus.emit('library.changed', { domain: 'items' })
      ctx.bus.emit('library.changed', { domain: 'datasets' })
      return r
    },
    'gallery.collections': () => g.store.collections(),
    'gallery.createCollection': (input) => changing(g.store.createCollection(input.name)),
    'gallery.addToCollection': (input) => changing({ updated: g.store.addToCollection(input.collectionId, input.ids, input.move === true) }),
    'gallery.removeFromCollection': (input) => changing({ updated: g.store.removeFromCollection(input.collectionId, input.ids) }),
    'gallery.setSendTo': (input) => {
      g.store.setSendTo(input.collectionId)
      return changing(g.store.collections())
    }
  }
}

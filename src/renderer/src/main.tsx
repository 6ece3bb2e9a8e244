// Entry point: pick the transport, then mount providers (query cache, API, theme,
// notifications) around the studio frame.

import { StrictMode, useEffect, useMemo, useSyncExternalStore, type ReactNode } from 'react'
import { createRoot } from 'react-dom/client'
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query'
import CssBaseline from '@mui/material/CssBaseline'
import useMediaQuery from '@mui/material/useMediaQuery'
import { ThemeProvider } from '@mui/material/styles'
import type { Settings } from '../../shared/contract'
import { connectApi } from './api/client'
import { ApiContext, useApiQuery } from './api/hooks'
import type { ConnectionState } from './api/ws-client'
import { App } from './app/App'
import { NotifyProvider, useNotify } from './app/notify'
import { buildTheme } from './app/theme'
import { EmptyState } from './components/common'

/** Set by <ErrorBridge> once the snackbar exists; query and mutation failures go through it. */
let reportError: (error: unknown) => void = (error) => console.warn(error)

const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError: (error) => reportError(error) }),
  mutationCache: new MutationCache({
    onError: (error, _input, _context, mutation) => {
      // Forms that show the error next to their fields say so with `meta.inlineError`.
      if (!mutation.options.meta?.inlineError) reportError(error)
    },
    onSuccess: (_data, _input, _context, mutation) => {
      // A write invalidates its own domain at once, without waiting for the library.changed event.
      const key = mutation.options.mutationKey?.[0]
      if (typeof key === 'string') {
        const domain = key.split('.')[0] ?? ''
        void queryClient.invalidateQueries({
          predicate: (query) => typeof query.queryKey[0] === 'string' && query.queryKey[0].startsWith(`${domain}.`)
        })
      }
    }
  }),
  defaultOptions: {
    queries: { retry: 1, staleTime: 10_000, refetchOnWindowFocus: false },
    mutations: { retry: false }
  }
})

function ErrorBridge() {
  const notify = useNotify()
  useEffect(() => {
    reportError = (error) => notify.error(error)
  }, [notify])
  return null
}

const THEME_KEY = 'tessera.theme'

function readCachedTheme(): Settings['theme'] {
  try {
    const value = window.localStorage.getItem(THEME_KEY)
    return value === 'light' || value === 'dark' ? value : 'system'
  } catch {
    return 'system'
  }
}

function ThemeLayer({ children }: { children: ReactNode }) {
  const prefersDark = useMediaQuery('(prefers-color-scheme: dark)', { noSsr: true })
  const reducedMotion = useMediaQuery('(prefers-reduced-motion: reduce)', { noSsr: true })
  const settings = useApiQuery('settings.get', {})
  const preference = settings.data?.theme ?? readCachedTheme()
  useEffect(() => {
    if (!settings.data) return
    try {
      window.localStorage.setItem(THEME_KEY, settings.data.theme)
    } catch {
      // only a start-up hint; the library holds the real setting
    }
  }, [settings.data])
  const mode = preference === 'system' ? (prefersDark ? 'dark' : 'light') : preference
  const theme = useMemo(() => buildTheme(mode, { reducedMotion }), [mode, reducedMotion])
  useEffect(() => {
    document.documentElement.dataset.theme = mode
  }, [mode])
  return (
    <ThemeProvider theme={theme}>
      <CssBaseline />
      {children}
    </ThemeProvider>
  )
}

function StandaloneMessage({ title, children }: { title: string; children: ReactNode }) {
  const prefersDark = useMediaQuery('(prefers-color-scheme: dark)', { noSsr: true })
  const theme = useMemo(() => buildTheme(prefersDark ? 'dark' : 'light'), [prefersDark])
  return (
    <ThemeProvider theme={theme}>
      <CssBaseline />
      <EmptyState title={title} testId="standalone-message">
        {children}
      </EmptyState>
    </ThemeProvider>
  )
}

const howToOpen = (
  <>
    Start the browser host with <code>npx tessera serve</code> (or <code>npm start</code>) and open the link it prints: the
    link carries the access token this page needs.
  </>
)

// One connection per page load (outside React, so StrictMode's double render cannot open two sockets).
const connection = connectApi()

function Root() {
  const browser = connection.kind === 'browser' ? connection.api : null
  const state = useSyncExternalStore<ConnectionState>(
    (listener) => (browser ? browser.onConnection(listener) : () => {}),
    () => browser?.connection ?? 'open'
  )
  const store = useMemo(
    () => (browser ? { get: () => browser.connection, subscribe: (l: () => void) => browser.onConnection(l) } : undefined),
    [browser]
  )
  if (connection.kind === 'missing-token') {
    return <StandaloneMessage title="This page needs its access link">{howToOpen}</StandaloneMessage>
  }
  if (state === 'unauthorized') {
    return <StandaloneMessage title="The Tessera host refused this page">{howToOpen}</StandaloneMessage>
  }
  return (
    <QueryClientProvider client={queryClient}>
      <ApiContext.Provider value={connection.api}>
        <ThemeLayer>
          <NotifyProvider>
            <ErrorBridge />
            <App connection={store} />
          </NotifyProvider>
        </ThemeLayer>
      </ApiContext.Provider>
    </QueryClientProvider>
  )
}

const container = document.getElementById('root')
if (!container) throw new Error('index.html has no #root element.')
createRoot(container).render(
  <StrictMode>
    <Root />
  </StrictMode>
)

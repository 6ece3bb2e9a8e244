// One snackbar for the whole studio: errors and confirmations as one sentence.

import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react'
import Alert from '@mui/material/Alert'
import Snackbar from '@mui/material/Snackbar'
import { errorSentence } from '../api/errors'

interface Notice {
  key: number
  severity: 'error' | 'success' | 'info'
  message: string
}

interface Notify {
  error(error: unknown): void
  success(message: string): void
  info(message: string): void
}

const NotifyContext = createContext<Notify | null>(null)

export function useNotify(): Notify {
  const notify = useContext(NotifyContext)
  if (!notify) throw new Error('useNotify needs a NotifyProvider.')
  return notify
}

let nextKey = 1

export function NotifyProvider({ children }: { children: ReactNode }) {
  const [notice, setNotice] = useState<Notice | null>(null)
  const [open, setOpen] = useState(false)
  const show = useCallback((severity: Notice['severity'], message: string) => {
    setNotice({ key: nextKey++, severity, message })
    setOpen(true)
  }, [])
  const notify = useMemo<Notify>(
    () => ({
      error: (error) => show('error', errorSentence(error)),
      success: (message) => show('success', message),
      info: (message) => show('info', message)
    }),
    [show]
  )
  return (
    <NotifyContext.Provider value={notify}>
      {children}
      <Snackbar
        key={notice?.key}
        open={open}
        autoHideDuration={notice?.severity === 'error' ? 8000 : 4000}
        onClose={(_event, reason) => {
          if (reason !== 'clickaway') setOpen(false)
        }}
        anchorOrigin={{ vertical: 'bottom', horizontal: 'center' }}
      >
        <Alert
          severity={notice?.severity ?? 'info'}
          variant="filled"
          onClose={() => setOpen(false)}
          sx={{ minWidth: 320, alignItems: 'center' }}
          data-testid="notice"
        >
          {notice?.message}
        </Alert>
      </Snackbar>
    </NotifyContext.Provider>
  )
}

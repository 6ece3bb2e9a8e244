// A calm, dense desktop theme: small controls, 13px body text, hairline dividers,
// one restrained accent. Light and dark share everything but the palette.

import { alpha, createTheme, type Theme } from '@mui/material/styles'

const fontFamily = [
  'Inter',
  'system-ui',
  '-apple-system',
  '"Segoe UI"',
  'Roboto',
  '"Helvetica Neue"',
  '"Liberation Sans"',
  '"DejaVu Sans"',
  'Arial',
  'sans-serif'
].join(',')

export const monoFamily = ['"JetBrains Mono"', '"SF Mono"', 'Menlo', 'Consolas', '"DejaVu Sans Mono"', '"Liberation Mono"', 'monospace'].join(',')

/** `reducedMotion` (the system's prefers-reduced-motion) turns every MUI transition off. */
export function buildTheme(mode: 'light' | 'dark', options: { reducedMotion?: boolean } = {}): Theme {
  const dark = mode === 'dark'
  const accent = dark ? '#7aa7ff' : '#2f5fd0'
  const base = createTheme({
    palette: {
      mode,
      primary: { main: accent },
      secondary: { main: dark ? '#b9a3ff' : '#6b4fc8' },
      background: dark ? { default: '#15171b', paper: '#1b1e23' } : { default: '#f5f6f8', paper: '#ffffff' },
      divider: dark ? 'rgba(255,255,255,0.09)' : 'rgba(15,23,42,0.10)',
      text: dark
        ? { primary: '#e6e8ec', secondary: '#9aa3b2' }
        : { primary: '#1d2430', secondary: '#5b6678' }
    },
    shape: { borderRadius: 6 },
    typography: {
      fontFamily,
      fontSize: 13,
      h1: { fontSize: 20, fontWeight: 600, letterSpacing: -0.2 },
      h2: { fontSize: 17, fontWeight: 600, letterSpacing: -0.1 },
      h3: { fontSize: 15, fontWeight: 600 },
      subtitle1: { fontSize: 14, fontWeight: 600 },
      subtitle2: { fontSize: 12, fontWeight: 600 },
      body1: { fontSize: 13 },
      body2: { fontSize: 12.5 },
      caption: { fontSize: 11.5 },
      overline: { fontSize: 10.5, fontWeight: 600, letterSpacing: 0.8 },
      button: { textTransform: 'none', fontWeight: 500 }
    },
    spacing: 8,
    ...(options.reducedMotion ? { transitions: { create: () => 'none' } } : {})
  })
  return createTheme(base, {
    components: {
      MuiCssBaseline: {
        styleOverrides: {
          body: { WebkitFontSmoothing: 'antialiased' },
          '*::-webkit-scrollbar': { width: 10, height: 10 },
          '*::-webkit-scrollbar-thumb': {
            backgroundColor: alpha(base.palette.text.primary, 0.18),
            borderRadius: 8,
            border: `2px solid ${base.palette.background.default}`
          }
        }
      },
      // No ink ripples (calmer for a desktop tool); keyboard focus gets a plain outline instead.
      MuiButtonBase: {
        defaultProps: { disableRipple: true },
        styleOverrides: {
          root: { '&.Mui-focusVisible': { outline: `2px solid ${alpha(accent, 0.7)}`, outlineOffset: -2 } }
        }
      },
      MuiButton: { defaultProps: { size: 'small', disableElevation: true } },
      MuiIconButton: { defaultProps: { size: 'small' } },
      MuiTextField: { defaultProps: { size: 'small' } },
      MuiSelect: { defaultProps: { size: 'small' } },
      MuiFormControl: { defaultProps: { size: 'small' } },
      MuiToggleButtonGroup: { defaultProps: { size: 'small' } },
      MuiToggleButton: { styleOverrides: { root: { textTransform: 'none', paddingLeft: 12, paddingRight: 12 } } },
      MuiChip: { defaultProps: { size: 'small' } },
      MuiList: { defaultProps: { dense: true } },
      MuiTable: { defaultProps: { size: 'small' } },
      MuiTableCell: {
        styleOverrides: {
          root: { borderColor: base.palette.divider, paddingTop: 7, paddingBottom: 7 },
          head: { color: base.palette.text.secondary, fontWeight: 600, fontSize: 11.5, letterSpacing: 0.3, textTransform: 'uppercase' }
        }
      },
      MuiPaper: {
        defaultProps: { elevation: 0 },
        styleOverrides: { root: { backgroundImage: 'none' } }
      },
      MuiTooltip: { defaultProps: { disableInteractive: true }, styleOverrides: { tooltip: { fontSize: 11.5 } } },
      MuiDialog: { defaultProps: { fullWidth: true, maxWidth: 'xs' } },
      MuiDialogTitle: { styleOverrides: { root: { fontSize: 15, fontWeight: 600 } } },
      MuiListItemButton: {
        styleOverrides: {
          root: {
            borderRadius: 6,
            transition: 'none',
            '&.Mui-selected': {
              backgroundColor: alpha(accent, dark ? 0.16 : 0.1),
              color: base.palette.text.primary,
              '& .MuiListItemIcon-root': { color: accent }
            }
          }
        }
      },
      MuiListItemIcon: { styleOverrides: { root: { minWidth: 32 } } },
      MuiLinearProgress: { styleOverrides: { root: { borderRadius: 3, height: 6 } } },
      MuiSnackbarContent: { styleOverrides: { root: { fontSize: 13 } } }
    }
  })
}

// Settings: theme and execution provider (persisted by the back end), and what this studio is.

import Box from '@mui/material/Box'
import FormControl from '@mui/material/FormControl'
import IconButton from '@mui/material/IconButton'
import MenuItem from '@mui/material/MenuItem'
import Select from '@mui/material/Select'
import Stack from '@mui/material/Stack'
import ToggleButton from '@mui/material/ToggleButton'
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup'
import Tooltip from '@mui/material/Tooltip'
import Typography from '@mui/material/Typography'
import ContentCopyIcon from '@mui/icons-material/ContentCopy'
import DarkModeOutlinedIcon from '@mui/icons-material/DarkModeOutlined'
import LightModeOutlinedIcon from '@mui/icons-material/LightModeOutlined'
import SettingsBrightnessOutlinedIcon from '@mui/icons-material/SettingsBrightnessOutlined'
import type { ReactNode } from 'react'
import type { Settings } from '../../../shared/contract'
import { useApiMutation, useApiQuery } from '../api/hooks'
import { PanelBody, PanelHeader, Section } from '../components/common'
import { SampleLibrarySection } from '../models/SampleLibrarySection'
import { useNotify } from '../app/notify'
import { monoFamily } from '../app/theme'

const providers: { value: Settings['executionProvider']; label: string; hint: string }[] = [
  { value: 'auto', label: 'Automatic', hint: 'The fastest provider this machine has, falling back to CPU.' },
  { value: 'cpu', label: 'CPU', hint: 'Works everywhere.' },
  { value: 'cuda', label: 'CUDA (NVIDIA)', hint: 'Needs an NVIDIA GPU and the CUDA build of ONNX Runtime (npm run setup:cuda).' },
  { value: 'dml', label: 'DirectML (Windows)', hint: 'Any DirectX 12 GPU on Windows.' },
  { value: 'coreml', label: 'Core ML (macOS)', hint: 'Apple silicon and macOS GPUs.' }
]

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Stack direction="row" spacing={2} sx={{ alignItems: 'center', py: 0.75, minHeight: 36 }}>
      <Typography variant="body1" sx={{ color: 'text.secondary', width: 160, flexShrink: 0 }}>
        {label}
      </Typography>
      <Box sx={{ flex: 1, minWidth: 0 }}>{children}</Box>
    </Stack>
  )
}

export function SettingsPanel() {
  const notify = useNotify()
  const settings = useApiQuery('settings.get', {})
  const info = useApiQuery('app.info', {})
  const save = useApiMutation('settings.set')
  const current = settings.data
  const provider = providers.find((p) => p.value === current?.executionProvider)

  return (
    <>
      <PanelHeader title="Settings" subtitle="Preferences are stored in the library and apply to every window." />
      <PanelBody>
        <Box sx={{ maxWidth: 760 }}>
          <Section title="Appearance" description="Follow the operating system, or pick a theme.">
            <Row label="Theme">
              <ToggleButtonGroup
                exclusive
                value={current?.theme ?? null}
                disabled={!current || save.isPending}
                onChange={(_e, theme: Settings['theme'] | null) => theme && save.mutate({ theme })}
                aria-label="Theme"
              >
                <ToggleButton value="system" data-testid="theme-system">
                  <SettingsBrightnessOutlinedIcon fontSize="small" sx={{ mr: 0.75 }} />
                  System
                </ToggleButton>
                <ToggleButton value="light" data-testid="theme-light">
                  <LightModeOutlinedIcon fontSize="small" sx={{ mr: 0.75 }} />
                  Light
                </ToggleButton>
                <ToggleButton value="dark" data-testid="theme-dark">
                  <DarkModeOutlinedIcon fontSize="small" sx={{ mr: 0.75 }} />
                  Dark
                </ToggleButton>
              </ToggleButtonGroup>
            </Row>
          </Section>

          <Section
            title="Compute"
            description="Where ONNX Runtime runs models for training, classification and generation."
          >
            <Row label="Execution provider">
              <Stack sx={{ alignItems: 'center' }} direction="row" spacing={1.5}>
                <FormControl sx={{ minWidth: 220 }}>
                  <Select
                    value={current?.executionProvider ?? ''}
                    disabled={!current || save.isPending}
                    onChange={(e) => save.mutate({ executionProvider: e.target.value as Settings['executionProvider'] })}
                    inputProps={{ 'aria-label': 'Execution provider', 'data-testid': 'execution-provider' }}
                  >
                    {providers.map((p) => (
                      <MenuItem key={p.value} value={p.value}>
                        {p.label}
                      </MenuItem>
                    ))}
                  </Select>
                </FormControl>
              </Stack>
              {provider && (
                <Typography variant="body2" sx={{ color: 'text.secondary', mt: 0.75 }}>
                  {provider.hint}
                </Typography>
              )}
            </Row>
          </Section>

          <SampleLibrarySection />

          <Section title="About" description="This studio and the library it works on.">
            {info.data ? (
              <Box data-testid="app-info">
                <Row label="Version">
                  <Typography>
                    {info.data.name} {info.data.version}
                  </Typography>
                </Row>
                <Row label="Library">
                  <Stack direction="row" spacing={0.5} sx={{ alignItems: 'center', minWidth: 0 }}>
                    <Typography
                      sx={{ fontFamily: monoFamily, fontSize: 12, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}
                      title={info.data.libraryPath}
                    >
                      {info.data.libraryPath}
                    </Typography>
                    <Tooltip title="Copy path">
                      <IconButton
                        aria-label="Copy library path"
                        onClick={() => {
                          const path = info.data?.libraryPath ?? ''
                          navigator.clipboard.writeText(path).then(
                            () => notify.success('Library path copied.'),
                            () => notify.info(path)
                          )
                        }}
                      >
                        <ContentCopyIcon sx={{ fontSize: 16 }} />
                      </IconButton>
                    </Tooltip>
                  </Stack>
                </Row>
                <Row label="Running in">
                  <Typography>
                    {info.data.host === 'electron' ? 'Desktop window (Electron)' : info.data.host === 'browser' ? 'Browser host' : 'Command line'}{' '}
                    on {info.data.platform}
                  </Typography>
                </Row>
                <Row label="Library schema">
                  <Typography>Version {info.data.schemaVersion}</Typography>
                </Row>
              </Box>
            ) : (
              <Typography sx={{ color: 'text.secondary' }}>{info.isError ? info.error.message : 'Loading…'}</Typography>
            )}
          </Section>
        </Box>
      </PanelBody>
    </>
  )
}

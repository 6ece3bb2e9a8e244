// The studio's panels, in rail order. `pending` panels have no back end yet.

import type { ReactNode } from 'react'
import AutoAwesomeOutlinedIcon from '@mui/icons-material/AutoAwesomeOutlined'
import CategoryOutlinedIcon from '@mui/icons-material/CategoryOutlined'
import CollectionsOutlinedIcon from '@mui/icons-material/CollectionsOutlined'
import HubOutlinedIcon from '@mui/icons-material/HubOutlined'
import LabelOutlinedIcon from '@mui/icons-material/LabelOutlined'
import ModelTrainingOutlinedIcon from '@mui/icons-material/ModelTrainingOutlined'
import PhotoLibraryOutlinedIcon from '@mui/icons-material/PhotoLibraryOutlined'
import SettingsOutlinedIcon from '@mui/icons-material/SettingsOutlined'
import { ClassifyPanel } from '../panels/ClassifyPanel'
import { DatasetsPanel } from '../panels/DatasetsPanel'
import { GalleryPanel } from '../panels/GalleryPanel'
import { GeneratePanel } from '../panels/GeneratePanel'
import { LabelPanel } from '../panels/LabelPanel'
import { ModelsPanel } from '../panels/ModelsPanel'
import { SettingsPanel } from '../panels/SettingsPanel'
import { TrainPanel } from '../panels/TrainPanel'

export type PanelId = 'datasets' | 'label' | 'train' | 'classify' | 'generate' | 'gallery' | 'models' | 'settings'

export interface PanelDef {
  id: PanelId
  label: string
  icon: ReactNode
  render: () => ReactNode
  /** Grouping in the rail: work panels first, then library, then settings at the bottom. */
  group: 'work' | 'library' | 'system'
}

export const panels: PanelDef[] = [
  { id: 'datasets', label: 'Datasets', icon: <PhotoLibraryOutlinedIcon />, group: 'work', render: () => <DatasetsPanel /> },
  { id: 'label', label: 'Label', icon: <LabelOutlinedIcon />, group: 'work', render: () => <LabelPanel /> },
  { id: 'train', label: 'Train', icon: <ModelTrainingOutlinedIcon />, group: 'work', render: () => <TrainPanel /> },
  { id: 'classify', label: 'Classify', icon: <CategoryOutlinedIcon />, group: 'work', render: () => <ClassifyPanel /> },
  {
    id: 'generate',
    label: 'Generate',
    icon: <AutoAwesomeOutlinedIcon />,
    group: 'work',
    render: () => <GeneratePanel />
  },
  {
    id: 'gallery',
    label: 'Gallery',
    icon: <CollectionsOutlinedIcon />,
    group: 'library',
    render: () => <GalleryPanel />
  },
  { id: 'models', label: 'Models', icon: <HubOutlinedIcon />, group: 'library', render: () => <ModelsPanel /> },
  { id: 'settings', label: 'Settings', icon: <SettingsOutlinedIcon />, group: 'system', render: () => <SettingsPanel /> }
]

export function panelFromHash(hash: string): PanelId {
  const id = hash.replace(/^#\/?/, '').split(/[/?]/)[0]
  return panels.find((p) => p.id === id)?.id ?? 'datasets'
}

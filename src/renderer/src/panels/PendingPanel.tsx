// A panel whose back end does not exist yet says so plainly, with no made-up data.

import type { ReactNode } from 'react'
import ConstructionOutlinedIcon from '@mui/icons-material/ConstructionOutlined'
import { EmptyState, PanelBody, PanelHeader } from '../components/common'

export function PendingPanel({ title, subtitle, what }: { title: string; subtitle: string; what: ReactNode }) {
  return (
    <>
      <PanelHeader title={title} subtitle={subtitle} />
      <PanelBody>
        <EmptyState icon={<ConstructionOutlinedIcon />} title={`${title} is not available in this build yet`} testId="panel-pending">
          {what} The back end for it has not been built yet, so there is nothing to show here; this panel
          will work once it lands.
        </EmptyState>
      </PanelBody>
    </>
  )
}

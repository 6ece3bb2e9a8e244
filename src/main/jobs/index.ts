export { JobRunner, type JobContext, type JobKind, type ProgressUpdate } from './runner'
export { JobStore, rowToJob, type JobRow } from './store'
export { libraryVerifyKind, type VerifyResult, type VerifyCheckpoint } from './kinds/library-verify'

// The runtime's public API (the only module that imports onnxruntime-node).
export * from './session'
export * from './trainer'
export * from './protocol'
export * from './worker-client'

// The graph builder's public API: import from 'src/main/ml/graph' (this file), not the parts.
export * from './graph'
export * from './ops'
export * from './serialize'
export * from './autodiff'
export * from './nn'
export * from './optim'
export * from './stats'

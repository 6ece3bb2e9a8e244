// Where the shared ImageGPT fixtures live: beside the clone, in ../shared/fixtures.
import { readFileSync } from 'node:fs'
import path from 'node:path'

export const FIXTURES = path.resolve(__dirname, '../../../../../shared/fixtures')
export const LM_DIR = path.join(FIXTURES, 'imagegpt-tiny-lm')
export const CLS_DIR = path.join(FIXTURES, 'imagegpt-tiny-cls')

export interface LmReference {
  config: { embd: number; layers: number; heads: number; clusters: number; side: number; inner: number; eps: number }
  images: { file: string; tokens: number[]; nll_nats_per_token: number; bits_per_token: number; logits_first3: number[][] }[]
  greedy_tokens: number[]
  greedy_min_margin: number
  sgd_step: { lr: number; loss_before: number; file: string; grad_norm: number }
}

export interface ClsReference {
  config: LmReference['config']
  images: { file: string; tokens: number[]; class_probs: number[] }[]
}

export function lmReference(): LmReference {
  return JSON.parse(readFileSync(path.join(LM_DIR, 'reference.json'), 'utf8')) as LmReference
}

export function clsReference(): ClsReference {
  return JSON.parse(readFileSync(path.join(CLS_DIR, 'reference.json'), 'utf8')) as ClsReference
}

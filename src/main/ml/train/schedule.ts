// Learning-rate schedules: linear warmup then cosine decay to a floor (the default), or constant.

export interface Schedule {
  kind: 'cosine' | 'constant'
  peakLr: number
  warmupSteps: number
  totalSteps: number
  /** Cosine floor as a share of the peak. */
  minLrRatio: number
}

/** Learning rate of 0-based step `step`. */
export function lrAt(s: Schedule, step: number): number {
  if (s.kind === 'constant') return s.peakLr
  if (step < s.warmupSteps) return (s.peakLr * (step + 1)) / s.warmupSteps
  const t = Math.min(1, (step - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps))
  return s.peakLr * (s.minLrRatio + (1 - s.minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * t)))
}

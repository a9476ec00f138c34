/** Every value in the system carries when it was measured and how far it can be trusted. */
export type Quality = 'GOOD' | 'STALE' | 'ERROR';

export interface ChannelValue {
  readonly value: number | null;
  /** Unix milliseconds when the value was measured (or when the failure was seen, for ERROR). */
  readonly ts: number;
  readonly quality: Quality;
}

/** A value counts as STALE once no fresh value arrived for this many poll intervals. */
export const STALE_AFTER_INTERVALS = 3;

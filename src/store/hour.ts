export const HOUR_MS = 3_600_000;
export const HOUR_S = 3600;

/** The start (unix seconds) of the hour holding ts. */
export const hourOf = (ts: number): number => ts - (((ts % HOUR_S) + HOUR_S) % HOUR_S);

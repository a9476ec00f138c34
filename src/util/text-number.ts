/**
 * Numbers as people read them in texts (why, status, audit detail): watts and other setpoints to the
 * whole unit, percentages and temperatures to 0.1, never a float's tail such as -1456.1260000000002.
 * Only for texts: values that are stored or sent keep their precision.
 */
export const whole = (x: number): number => Math.round(x) || 0;
export const tenth = (x: number): number => Math.round(x * 10) / 10 || 0;
export const thousandth = (x: number): number => Math.round(x * 1000) / 1000 || 0;

/**
 * Deterministic randomness for the simulator. Two flavours:
 * - a seeded stream (mulberry32) for things drawn once, like each customer's size;
 * - hashed noise, a pure function of (seed, stream, index), so a value at time t never depends on
 *   which times were sampled before it.
 */

export type Rng = () => number;

/** mulberry32: small, fast, good enough for simulation (not for cryptography). Returns [0, 1). */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal sample (Box-Muller) from a uniform source. */
export function gaussian(rng: Rng): number {
  const u = 1 - rng(); // (0, 1]: log(0) is avoided
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A 32-bit mix of its arguments (murmur3 finaliser steps); integers of any safe size are accepted. */
export function hash32(...parts: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    const lo = part >>> 0;
    const hi = Math.floor(part / 4294967296) >>> 0;
    for (const word of [lo, hi]) {
      h = Math.imul(h ^ word, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
    }
  }
  return h >>> 0;
}

/** Stable number for a stream name, so noise sources can be named in code. */
export function streamId(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Standard normal value at an integer index of a noise stream. */
export function gaussianAt(seed: number, stream: number, index: number): number {
  return gaussian(mulberry32(hash32(seed, stream, index)));
}

/**
 * Smooth standard-normal-ish noise over time: independent values every `periodMs`, joined by cosine
 * interpolation so a reading does not jump between two polls a second apart.
 */
export function smoothNoise(seed: number, stream: number, tMs: number, periodMs: number): number {
  const x = tMs / periodMs;
  const i = Math.floor(x);
  const f = (1 - Math.cos(Math.PI * (x - i))) / 2;
  return gaussianAt(seed, stream, i) * (1 - f) + gaussianAt(seed, stream, i + 1) * f;
}

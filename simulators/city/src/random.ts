/** A source of uniform numbers in [0, 1). `createRng(seed)` gives a reproducible one; `Math.random` also fits. */
export type Rng = () => number;

/**
 * mulberry32: one 32-bit word of state, fast, and good enough for synthetic telemetry (not for cryptography).
 * The same seed always yields the same sequence, so a seeded fleet publishes the same readings run after run.
 */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Mixes a seed with a label (FNV-1a, then a murmur3 finaliser) into a new 32-bit seed.
 * Seeding each device with `hashSeed(seed, deviceId)` keeps its stream the same whatever else is in the fleet.
 */
export function hashSeed(seed: number, label: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform in [min, max). */
export function randomBetween(rng: Rng, min: number, max: number): number {
  return min + (max - min) * rng();
}

/** Uniform integer in [min, max], both inclusive. */
export function randomInt(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

/** Normally distributed (Box–Muller). */
export function randomNormal(rng: Rng, mean = 0, sd = 1): number {
  const u = 1 - rng(); // (0, 1]: log(0) would be -Infinity
  const v = rng();
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** One element, uniformly. */
export function randomPick<T>(rng: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('randomPick needs at least one item');
  return items[Math.floor(rng() * items.length)] as T;
}

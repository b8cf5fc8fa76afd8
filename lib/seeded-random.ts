/**
 * mulberry32: a small seeded PRNG, for randomised tests (a failing run replays with its seed) and the
 * synthetic populations the risk model is trained and measured on (the same seed, the same population).
 * `next` is uniform in [0, 1); `int(max)` an integer in [0, max); `pick` one of the items.
 */
export function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (max: number) => Math.floor(next() * max),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!,
  };
}

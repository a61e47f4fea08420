import { randomInt } from 'node:crypto';

/**
 * The seed of a randomized test. The test command runs every one with its fixed
 * seed, so a run is repeatable and a fresh clone's CI cannot draw an input nobody saw
 * before. `<NAME>=<integer>` replays a run; `<NAME>=random` hunts for new failures
 * and prints the seed it drew, so a failure can be replayed.
 */
export function seedFrom(name: string, fixed: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fixed;
  if (raw === 'random') {
    const seed = randomInt(0, 2 ** 31 - 1);
    console.log(`[seed] ${name}=${seed} (random; replay with ${name}=${seed})`);
    return seed;
  }
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`${name} must be an integer or "random", got ${raw}`);
  return seed;
}

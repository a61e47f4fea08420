/**
 * The parts of `npm run bench:kafka-auth` (kafka-auth.ts) that are plain functions of
 * their input, so a unit test can check them: the order of the arms in a round, the
 * paired figures, and the one change the bench makes to the stack's broker config.
 */

/** Authentication on (SASL_PLAINTEXT, SCRAM-SHA-512) or off (PLAINTEXT). */
export type Arm = 'on' | 'off';

/**
 * Which arm goes first at step `n` (a round, a connect, a send, a consumer pass): on
 * at odd steps, off at even ones, so a drift in time (the JIT warming, another process
 * on the cores) favours neither arm.
 */
export function armsInOrder(round: number): [Arm, Arm] {
  return round % 2 === 1 ? ['on', 'off'] : ['off', 'on'];
}

/** The median; with an even count, the mean of the two middle values. NaN for none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One figure of one round, in both arms. */
export interface Pair {
  on: number;
  off: number;
}

export interface PairedSummary {
  /** The median of each arm over the rounds. */
  on: number;
  off: number;
  /** on ÷ off of each round, in round order. */
  ratios: number[];
  /** The median of the rounds' on ÷ off: the figure the bench reports. */
  ratio: number;
  min: number;
  max: number;
}

/**
 * The paired summary of a figure measured in both arms of each round. The ratio is the
 * median of the per-round ratios, not the ratio of the medians: a round that ran slow
 * for both arms (another process on the cores) moves both of its figures and cancels
 * out of its own ratio.
 */
export function summarizePairs(pairs: readonly Pair[]): PairedSummary {
  if (pairs.length === 0) throw new Error('no rounds to summarize');
  for (const p of pairs) {
    if (!(Number.isFinite(p.on) && p.on > 0 && Number.isFinite(p.off) && p.off > 0)) {
      throw new Error(`a round without two positive figures (on ${p.on}, off ${p.off}) has no ratio`);
    }
  }
  const ratios = pairs.map((p) => p.on / p.off);
  return {
    on: median(pairs.map((p) => p.on)),
    off: median(pairs.map((p) => p.off)),
    ratios,
    ratio: median(ratios),
    min: Math.min(...ratios),
    max: Math.max(...ratios),
  };
}

/**
 * The stack broker's server.properties (scripts/stack/components/kafka.ts) with one
 * more listener, `PLAINTEXT://host:port`, advertised and mapped to the PLAINTEXT
 * protocol: the broker-side "authentication off". Everything else stays as the stack
 * writes it, the SASL listener, the authorizer and the inter-broker listener included.
 * A file without the three keys (an edited generator) is refused, not patched blindly.
 */
export function withPlaintextListener(properties: string, host: string, port: number): string {
  const lines = properties.split('\n');
  const edit = (key: string, change: (value: string) => string) => {
    const at = lines.findIndex((l) => l.startsWith(`${key}=`));
    if (at === -1) throw new Error(`the broker's server.properties has no ${key}=`);
    const value = lines[at]!.slice(key.length + 1);
    if (/(^|,)PLAINTEXT[:/]/.test(value)) throw new Error(`the broker's ${key} already has a PLAINTEXT listener: ${value}`);
    lines[at] = `${key}=${change(value)}`;
  };
  edit('listeners', (v) => `${v},PLAINTEXT://${host}:${port}`);
  edit('advertised.listeners', (v) => `${v},PLAINTEXT://${host}:${port}`);
  edit('listener.security.protocol.map', (v) => `${v},PLAINTEXT:PLAINTEXT`);
  return lines.join('\n');
}

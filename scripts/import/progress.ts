import cliProgress from 'cli-progress';

export interface Counts {
  loaded: number;
  duplicate: number;
  rejected: number;
  records: number;
}

export interface Progress {
  start(totalBytes: number): void;
  update(bytes: number, counts: Counts): void;
  stop(): void;
}

export const noProgress: Progress = { start() {}, update() {}, stop() {} };

/**
 * A progress bar on stderr (stdout stays clean for the summary): bytes read of the
 * file, records, rate and the running counts. Updates are throttled to ~5 per second.
 */
export function progressBar(stream: NodeJS.WriteStream = process.stderr, label = 'import'): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} {bar} {percentage}% | {records} records | {rate} rec/s | loaded {loaded} dup {duplicate} rejected {rejected} | ETA {eta_formatted}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let t0 = 0;
  let last = 0;
  return {
    start(total) {
      t0 = Date.now();
      bar.start(Math.max(total, 1), 0, { records: 0, rate: 0, loaded: 0, duplicate: 0, rejected: 0 });
    },
    update(bytes, c) {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      const rate = Math.round(c.records / Math.max((now - t0) / 1000, 0.001));
      bar.update(bytes, { ...c, rate });
    },
    stop() {
      bar.stop();
    },
  };
}

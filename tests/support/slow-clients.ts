import net from 'node:net';

/** A raw connection an attack test holds open, and how the server ended it. */
export interface HeldSocket {
  /** ms from connect until the server closed it; undefined while open. */
  closedAfterMs(): number | undefined;
  /** What the server wrote before closing (a 408, a 431, or nothing). */
  received(): string;
  destroy(): void;
}

/**
 * Opens a TCP connection to `port` and runs `behave` on it (send nothing, trickle
 * headers, trickle a body). Resolves once connected; records when and how the
 * server ends the connection.
 */
export function holdSocket(port: number, behave: (s: net.Socket) => void): Promise<HeldSocket> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let closedAt: number | undefined;
    let data = '';
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      behave(s);
      resolve({
        closedAfterMs: () => (closedAt === undefined ? undefined : closedAt - started),
        received: () => data,
        destroy: () => s.destroy(),
      });
    });
    s.setEncoding('latin1');
    s.on('data', (d: string) => (data += d));
    s.on('error', () => {});
    s.on('close', () => (closedAt ??= performance.now()));
    s.once('error', reject);
  });
}

/** Writes `chunks` one every `everyMs` while the socket is open (the slowloris pattern). */
export function trickle(s: net.Socket, chunks: string[], everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (s.destroyed || i >= chunks.length) return clearInterval(timer);
    s.write(chunks[i++]!);
  }, everyMs);
  timer.unref();
  s.on('close', () => clearInterval(timer));
}

/** Latency percentiles of `n` sequential calls to `fn`, each required to succeed. */
export async function timed(n: number, fn: () => Promise<boolean>): Promise<{ ok: number; p50: number; p99: number; max: number }> {
  const ms: number[] = [];
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    if (await fn()) ok++;
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!;
  return { ok, p50: at(0.5), p99: at(0.99), max: ms[ms.length - 1]! };
}

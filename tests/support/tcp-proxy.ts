import net from 'node:net';

/**
 * A TCP proxy in front of the real database that a test can cut and restore,
 * to play a database outage without touching the shared PostgreSQL.
 * - forward: pipes every connection to the target;
 * - down: nothing listens (connections are refused) and open connections are cut;
 * - blackhole: connections are accepted and never answered (a partitioned host).
 */
export class TcpProxy {
  #server: net.Server | undefined;
  #sockets = new Set<net.Socket>();
  #mode: 'forward' | 'blackhole' = 'forward';
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Listens (again) on the same port as before, or on a free one the first time. */
  async start(mode: 'forward' | 'blackhole' = 'forward'): Promise<void> {
    this.#mode = mode;
    if (this.#server) return;
    const server = net.createServer((client) => this.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.#server = server;
  }

  /** Cuts every open connection; with `stop`, also stops listening. */
  async cut({ stop }: { stop: boolean }): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    if (stop && this.#server) {
      const server = this.#server;
      this.#server = undefined;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  #accept(client: net.Socket): void {
    this.#track(client);
    if (this.#mode === 'blackhole') return;
    const upstream = net.connect(this.targetPort, this.targetHost);
    this.#track(upstream);
    client.pipe(upstream).pipe(client);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
  }

  #track(s: net.Socket): void {
    this.#sockets.add(s);
    s.on('close', () => this.#sockets.delete(s));
    s.on('error', () => {});
  }
}

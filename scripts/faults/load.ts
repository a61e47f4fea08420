import { randomUUID } from 'node:crypto';

/**
 * A steady write load through both APIs, as clients would send it: new users, single
 * telemetry events and small batches, at a fixed rate. Every write is retried until
 * the API acknowledges it (with backoff, through outages of the API or its database):
 * an acknowledged write is one the pipeline must never lose. Telemetry writes are
 * idempotent by event_uuid, and a user retried after a lost answer comes back as 409
 * (its e-mail is taken: by itself), so retries never create duplicates.
 */
export interface LoadOptions {
  crmUrl: string;
  telemetryUrl: string;
  /** Sent with every write: a key with users:write and telemetry:write. */
  apiKey: string;
  /** Operations per second (a batch counts as one). */
  ratePerS: number;
  /** Marks this run's users (e-mail) so they can be found later. */
  tag: string;
}

export interface LoadReport {
  operations: number;
  /** Attempts that failed and were retried (connection refused, timeouts, 5xx, 503). */
  retries: number;
  users: string[];
  events: string[];
  /** Operations still unacknowledged when the drain deadline passed (should be 0). */
  abandoned: number;
}

export interface Load {
  stop(drainMs?: number): Promise<LoadReport>;
  readonly acknowledged: () => number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startLoad(opts: LoadOptions): Load {
  const users: string[] = [];
  const events: string[] = [];
  const userIds: number[] = [];
  let operations = 0;
  let retries = 0;
  let abandoned = 0;
  let stopping = false;
  let giveUpAt = Infinity;
  const inFlight = new Set<Promise<void>>();
  let seq = 0;

  /** Retries one request until the API acknowledges it; `accept` decides what counts. */
  async function until(send: () => Promise<Response>, accept: (r: Response) => Promise<boolean>): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      if (Date.now() > giveUpAt) return false;
      try {
        const res = await send();
        if (await accept(res)) return true;
        if (res.status < 500 && res.status !== 429) throw new Error(`refused: ${res.status} ${await res.text()}`);
      } catch (err) {
        if ((err as Error).message.startsWith('refused:')) throw err;
      }
      retries++;
      await sleep(Math.min(2_000, 100 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()));
    }
  }

  const post = (url: string, body: unknown) => () =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': `faults-${opts.tag}-${seq}`, authorization: `Bearer ${opts.apiKey}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });

  function event() {
    const uuid = randomUUID();
    return {
      uuid,
      body: {
        event_uuid: uuid,
        user_id: userIds.length > 0 ? userIds[Math.floor(Math.random() * userIds.length)]! : 1,
        prosthesis_type: ['myoelectric_hand', 'bionic_leg', 'bionic_arm'][seq % 3]!,
        muscle_group: ['biceps', 'forearm_flexors', 'quadriceps', 'deltoid'][seq % 4]!,
        signal_frequency: 500 + (seq % 1000),
        signal_duration: 100 + (seq % 300),
        signal_amplitude: Math.round(Math.random() * 1e6) / 1e5,
        event_timestamp: new Date(Date.now() - Math.floor(Math.random() * 3_600_000)).toISOString(),
      },
    };
  }

  async function operation(): Promise<void> {
    seq++;
    const kind = seq % 10;
    if (kind < 2) {
      const email = `faults+${opts.tag}-${seq}@example.com`;
      let id: number | undefined;
      const ok = await until(post(`${opts.crmUrl}/users`, { name: `Fault load ${seq}`, email, age: 20 + (seq % 60), gender: 'female', country: 'UA' }), async (r) => {
        if (r.status === 201) id = ((await r.json()) as { id: number }).id;
        return r.status === 201 || r.status === 409;
      });
      if (ok) {
        users.push(email);
        if (id !== undefined) userIds.push(id);
      } else abandoned++;
    } else if (kind < 9) {
      const e = event();
      if (await until(post(`${opts.telemetryUrl}/telemetry-events`, e.body), async (r) => r.status === 201 || r.status === 200)) events.push(e.uuid);
      else abandoned++;
    } else {
      const batch = Array.from({ length: 20 }, event);
      const ok = await until(post(`${opts.telemetryUrl}/telemetry-events/batch`, { events: batch.map((e) => e.body) }), async (r) => {
        if (r.status !== 200) return false;
        const { results } = (await r.json()) as { results: { status: string }[] };
        return results.every((x) => x.status === 'inserted' || x.status === 'duplicate');
      });
      if (ok) events.push(...batch.map((e) => e.uuid));
      else abandoned++;
    }
  }

  const timer = setInterval(() => {
    if (stopping) return;
    operations++;
    const p = operation()
      .catch((err: Error) => {
        // A refusal (4xx) is a bug in this generator or the API, not an outage.
        console.error(`[load] ${err.message}`);
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }, 1000 / opts.ratePerS);

  return {
    acknowledged: () => users.length + events.length,
    async stop(drainMs = 180_000) {
      stopping = true;
      clearInterval(timer);
      giveUpAt = Date.now() + drainMs;
      await Promise.all([...inFlight]);
      return { operations, retries, users, events, abandoned };
    },
  };
}

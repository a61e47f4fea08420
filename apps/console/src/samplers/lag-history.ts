import { describeGroups } from '@cdc/kafka';
import type { Deps } from '../deps.js';

const EVERY_MS = 5_000;
const KEEP = 360; // 30 minutes

/**
 * Each consumer group's total lag every 5 s for the last 30 minutes, so the lag chart
 * has a past when the page opens. A failed sample (Kafka down) records nothing: the
 * chart shows the gap.
 */
export class LagHistory {
  private readonly samples = new Map<string, { at: string; lag: number | null }[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: Deps) {}

  start(): void {
    const tick = () =>
      this.sample()
        .catch((err: Error) => this.deps.log.debug({ err: err.message }, 'lag sample failed'))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, EVERY_MS).unref();
        });
    this.timer = setTimeout(tick, 0).unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  of(group: string): { at: string; lag: number | null }[] {
    return [...(this.samples.get(group) ?? [])];
  }

  private async sample(): Promise<void> {
    const at = new Date().toISOString();
    for (const g of await this.deps.withAdmin((a) => describeGroups(a))) {
      const list = this.samples.get(g.group) ?? [];
      list.push({ at, lag: g.totalLag });
      if (list.length > KEEP) list.splice(0, list.length - KEEP);
      this.samples.set(g.group, list);
    }
  }
}

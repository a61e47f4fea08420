import type { Change } from '../../../src/contract';

const OP_LABEL: Record<Change['op'], string> = { c: 'create', u: 'update', d: 'delete', r: 'snapshot', t: 'truncate', m: 'message' };

export function OpBadge({ op }: { op: Change['op'] }) {
  return (
    <span className={`badge op op-${op}`} title={OP_LABEL[op]}>
      {op}
    </span>
  );
}

export function DlqBadge({ title }: { title?: string | null }) {
  return (
    <span className="badge dlq" title={title ?? 'dead-letter copy'}>
      DLQ
    </span>
  );
}

export function TombstoneBadge() {
  return <span className="badge tombstone">tombstone</span>;
}

/** Kafka Connect states: RUNNING, PAUSED, FAILED, UNASSIGNED, RESTARTING, STOPPED. */
export function StateBadge({ state, testId }: { state: string; testId?: string }) {
  const s = state.toUpperCase();
  const tone =
    s === 'RUNNING' || s === 'STABLE' || s === 'ACTIVE'
      ? 'ok'
      : s === 'FAILED' || s === 'DEAD' || s === 'LOST'
        ? 'bad'
        : s === 'PAUSED' || s === 'STOPPED' || s === 'EMPTY'
          ? 'muted'
          : 'warn';
  return (
    <span className={`badge state state-${tone}`} data-testid={testId}>
      {state}
    </span>
  );
}

export function HealthDot({ ok }: { ok: boolean }) {
  return <span className={`dot ${ok ? 'dot-ok' : 'dot-bad'}`} aria-label={ok ? 'healthy' : 'unhealthy'} />;
}

import { Fragment, useEffect, useState } from 'react';
import { Link } from 'react-router';
import type { ComponentHealth, Hop, Overview } from '../../../src/contract';
import { apiGet, errorMessage, isAbort, seg } from '../api';
import { HealthDot } from '../components/Badges';
import { ErrorBox, Loading } from '../components/ErrorBox';
import { Page, Section } from '../components/Page';
import { fmtBytes, fmtClock, fmtInt, fmtMs, fmtRate } from '../format';

type Live = 'connecting' | 'live' | 'reconnecting';

/** GET /api/overview once, then the `snapshot` events of /api/overview/stream. */
function useOverview(): { data: Overview | null; error: string | null; live: Live } {
  const [data, setData] = useState<Overview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState<Live>('connecting');

  useEffect(() => {
    const ctl = new AbortController();
    let gotSnapshot = false;
    apiGet<Overview>('/api/overview', { signal: ctl.signal })
      .then((d) => {
        if (!gotSnapshot) setData(d);
      })
      .catch((err: unknown) => {
        if (!isAbort(err)) setError(errorMessage(err));
      });
    const es = new EventSource('/api/overview/stream');
    es.addEventListener('snapshot', (ev: MessageEvent<string>) => {
      try {
        gotSnapshot = true;
        setData(JSON.parse(ev.data) as Overview);
        setError(null);
        setLive('live');
      } catch (err) {
        setError(`Bad snapshot: ${errorMessage(err)}`);
      }
    });
    es.addEventListener('open', () => setLive('live'));
    es.addEventListener('error', () => setLive('reconnecting'));
    return () => {
      ctl.abort();
      es.close();
    };
  }, []);

  return { data, error, live };
}

/** Splits the hops into linear chains: a hop continues a row when it starts where the last one ended. */
function chains(hops: Hop[]): Hop[][] {
  const rows: Hop[][] = [];
  for (const h of hops) {
    const row = rows.find((r) => r[r.length - 1]?.to === h.from);
    if (row) row.push(h);
    else rows.push([h]);
  }
  return rows;
}

function fmtLag(h: Hop): string {
  if (h.lag === null) return '—';
  return h.lagUnit === 'bytes' ? fmtBytes(h.lag) : `${fmtInt(h.lag)}${h.lagUnit === 'messages' ? ' msgs' : ''}`;
}

function freshnessTone(ms: number | null): string {
  if (ms === null) return '';
  if (ms < 10_000) return 'fresh';
  if (ms < 120_000) return 'stale';
  return 'old';
}

function Arrow({ hop, col, line }: { hop: Hop; col: number; line: number }) {
  return (
    <div
      className="arrow"
      data-testid="hop"
      data-hop={hop.id}
      title={`${hop.from} → ${hop.to}`}
      style={{ gridColumn: col + 1, gridRow: line + 1 }}
    >
      <div className="arrow-metrics">
        <span className="m-rate">{fmtRate(hop.ratePerS)}</span>
        <span className="m-lag">lag {fmtLag(hop)}</span>
        <span className={`m-fresh ${freshnessTone(hop.freshnessMs)}`}>
          {hop.freshnessMs === null ? 'fresh —' : `${fmtMs(hop.freshnessMs)} ago`}
        </span>
      </div>
      <div className="arrow-line" aria-hidden="true" />
    </div>
  );
}

function Diagram({ hops, health }: { hops: Hop[]; health: ComponentHealth[] }) {
  const byName = new Map(health.map((c) => [c.name.toLowerCase(), c.ok]));
  if (hops.length === 0) return <p className="muted">No hops reported yet.</p>;
  // Lay the chains on one grid (node, arrow, node, …): a branch starts under the node it leaves from.
  const rows = chains(hops);
  const placed = new Map<string, number>();
  const layout = rows.map((row) => {
    const first = row[0]?.from ?? '';
    const start = placed.get(first) ?? 0;
    row.forEach((h, i) => {
      if (!placed.has(h.from)) placed.set(h.from, start + 2 * i);
      if (!placed.has(h.to)) placed.set(h.to, start + 2 * i + 2);
    });
    return { row, start };
  });
  const columns = Math.max(...layout.map(({ row, start }) => start + 2 * row.length + 1));
  const template = Array.from({ length: columns }, (_, i) => (i % 2 === 0 ? 'minmax(84px, max-content)' : 'minmax(96px, 1fr)')).join(' ');
  const box = (name: string, col: number, line: number, repeat: boolean) => {
    const ok = byName.get(name.toLowerCase());
    return (
      <div
        key={`n:${line}:${col}`}
        className={`node ${ok === undefined ? '' : ok ? 'node-ok' : 'node-bad'} ${repeat ? 'node-repeat' : ''}`}
        data-testid="pipeline-node"
        style={{ gridColumn: col + 1, gridRow: line + 1 }}
      >
        {name}
      </div>
    );
  };
  return (
    <div className="diagram" data-testid="pipeline-diagram" style={{ gridTemplateColumns: template }}>
      {layout.map(({ row, start }, line) => (
        <Fragment key={row[0]?.id ?? line}>
          {row[0] ? box(row[0].from, start, line, line > 0) : null}
          {row.map((h, i) => (
            <Fragment key={h.id}>
              <Arrow hop={h} col={start + 2 * i + 1} line={line} />
              {box(h.to, start + 2 * i + 2, line, false)}
            </Fragment>
          ))}
        </Fragment>
      ))}
    </div>
  );
}

function Health({ components }: { components: ComponentHealth[] }) {
  return (
    <ul className="health" data-testid="component-health">
      {components.map((c) => (
        <li key={c.name} className={c.ok ? 'ok' : 'bad'} data-ok={c.ok ? 'true' : 'false'}>
          <HealthDot ok={c.ok} />
          <span className="h-name">{c.name}</span>
          <span className="h-detail" title={c.url}>
            {c.detail}
          </span>
        </li>
      ))}
    </ul>
  );
}

function Errors({ errors }: { errors: Overview['errors'] }) {
  const dlqTotal = errors.dlq.reduce((a, d) => a + d.messages, 0);
  return (
    <div className="errors" data-testid="error-counts">
      <div className={`stat ${errors.kafkaErrors ? 'stat-bad' : ''}`}>
        <div className="stat-value">{fmtInt(errors.kafkaErrors)}</div>
        <div className="stat-label">Kafka errors</div>
      </div>
      <div className={`stat ${dlqTotal ? 'stat-bad' : ''}`}>
        <div className="stat-value">{fmtInt(dlqTotal)}</div>
        <div className="stat-label">dead letters</div>
      </div>
      {errors.dlq.length > 0 ? (
        <table className="data compact">
          <thead>
            <tr>
              <th>DLQ topic</th>
              <th className="num">messages</th>
            </tr>
          </thead>
          <tbody>
            {errors.dlq.map((d) => (
              <tr key={d.topic} className={d.messages ? 'row-warn' : undefined}>
                <td>
                  <Link to={`/kafka/topics/${seg(d.topic)}`}>{d.topic}</Link>
                </td>
                <td className="num">{fmtInt(d.messages)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">No DLQ topics.</p>
      )}
    </div>
  );
}

export function OverviewPage() {
  const { data, error, live } = useOverview();
  return (
    <Page
      title="Overview"
      loaded={data !== null}
      actions={
        <span className={`live live-${live}`} data-testid="live-state">
          {live === 'live' ? '● live' : live === 'connecting' ? 'connecting…' : 'reconnecting…'}
          {data ? <span className="muted"> · {fmtClock(data.at)}</span> : null}
        </span>
      }
    >
      <ErrorBox error={error} />
      {data === null ? (
        error ? null : <Loading what="overview" />
      ) : (
        <>
          <Section title="Pipeline">
            <Diagram hops={data.hops} health={data.components} />
          </Section>
          <div className="grid-2">
            <Section title="Components">
              <Health components={data.components} />
            </Section>
            <Section title="Errors">
              <Errors errors={data.errors} />
            </Section>
          </div>
        </>
      )}
    </Page>
  );
}

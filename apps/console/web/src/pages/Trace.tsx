import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import type { TraceView } from '../../../src/contract';
import { seg } from '../api';
import { DlqBadge, OpBadge } from '../components/Badges';
import { DecodedView } from '../components/Decoded';
import { ErrorBox, Loading } from '../components/ErrorBox';
import { JsonView } from '../components/JsonView';
import { messagePath } from '../components/MessageTable';
import { Page, Section } from '../components/Page';
import { RowsTable } from '../components/RowsTable';
import { fmtMs, fmtTime } from '../format';
import { useApi } from '../hooks';

function HopLink({ link, children }: { link: string | null; children: ReactNode }) {
  if (!link) return <>{children}</>;
  if (link.startsWith('/')) return <Link to={link}>{children}</Link>;
  return (
    <a href={link} target="_blank" rel="noreferrer">
      {children}
    </a>
  );
}

function Timeline({ trace }: { trace: TraceView }) {
  return (
    <Section title="Hops">
      <ol className="timeline" data-testid="trace-timeline">
        {trace.hops.map((h, i) => (
          <li key={`${i}:${h.hop}`} className="tl-item">
            <div className="tl-time">{fmtTime(h.at)}</div>
            <div className="tl-dot" aria-hidden="true" />
            <div className="tl-body">
              <div className="tl-hop">
                <HopLink link={h.link}>{h.hop}</HopLink>
                {h.lagMs !== null ? <span className="tl-lag">+{fmtMs(h.lagMs)}</span> : null}
              </div>
              <div className="tl-where mono small">{h.where}</div>
            </div>
          </li>
        ))}
        {trace.hops.length === 0 ? <li className="muted">No hop found.</li> : null}
      </ol>
      {trace.missing.length > 0 ? (
        <div className="warn-box" data-testid="trace-missing">
          Missing: {trace.missing.join(', ')}
        </div>
      ) : null}
    </Section>
  );
}

function Panels({ trace }: { trace: TraceView }) {
  const m = trace.kafka;
  return (
    <div className="grid-3">
      <Section title="PostgreSQL">
        <div data-testid="trace-postgres">{trace.postgres ? <RowsTable rows={[trace.postgres]} /> : <p className="muted">No row.</p>}</div>
      </Section>
      <Section title="Kafka">
        <div data-testid="trace-kafka">
          {m ? (
            <>
              <p className="small">
                <Link to={messagePath(m)} className="mono">
                  {m.topic} / {m.partition} / {m.offset}
                </Link>{' '}
                {m.change ? <OpBadge op={m.change.op} /> : null} {m.dlq ? <DlqBadge title={m.dlq.error} /> : null}
              </p>
              {m.change ? (
                <>
                  <div className="label">{m.change.after ? 'after' : 'before'}</div>
                  <JsonView value={m.change.after ?? m.change.before} />
                  <details>
                    <summary className="small">whole value</summary>
                    <DecodedView decoded={m.value} />
                  </details>
                </>
              ) : (
                <DecodedView decoded={m.value} />
              )}
            </>
          ) : (
            <p className="muted">No message.</p>
          )}
        </div>
      </Section>
      <Section title={`ClickHouse (${trace.clickhouse.length})`}>
        <div data-testid="trace-clickhouse">
          <RowsTable rows={trace.clickhouse} />
        </div>
      </Section>
    </div>
  );
}

export function TracePage() {
  const { uuid } = useParams();
  const navigate = useNavigate();
  const [input, setInput] = useState(uuid ?? '');
  useEffect(() => setInput(uuid ?? ''), [uuid]);
  const { data, error, loading } = useApi<TraceView>(uuid ? `/api/trace/${seg(uuid)}` : null);

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    const v = input.trim();
    if (v) navigate(`/trace/${seg(v)}`);
  };

  return (
    <Page title={uuid ? `Trace ${uuid}` : 'Trace'} heading="Trace an event" loaded={!loading}>
      <form className="inline-form" onSubmit={submit}>
        <input
          type="text"
          className="mono wide"
          placeholder="event_uuid, e.g. 0192f0c4-…"
          value={input}
          onChange={(e) => setInput(e.target.value)}
          data-testid="trace-input"
          aria-label="event uuid"
        />
        <button type="submit" className="btn-primary" data-testid="trace-go">
          Trace
        </button>
      </form>
      <ErrorBox error={error} />
      {loading ? <Loading what="trace" /> : null}
      {data ? (
        <>
          <p className="small">
            event <span className="mono">{data.eventUuid}</span>
            {data.requestId ? (
              <>
                {' '}
                · request <span className="mono">{data.requestId}</span>
              </>
            ) : null}
          </p>
          <Timeline trace={data} />
          <Panels trace={data} />
        </>
      ) : null}
    </Page>
  );
}

import { Link, useParams } from 'react-router';
import type { Change, DlqInfo, Message, RowsView } from '../../../src/contract';
import { seg } from '../api';
import { DlqBadge, OpBadge, TombstoneBadge } from '../components/Badges';
import { DecodedView } from '../components/Decoded';
import { ErrorBox, Loading } from '../components/ErrorBox';
import { messagePath } from '../components/MessageTable';
import { Page, Section } from '../components/Page';
import { RowsTable } from '../components/RowsTable';
import { cellText, fmtBytes, fmtTime } from '../format';
import { useApi, type ApiState } from '../hooks';

function DlqPanel({ dlq }: { dlq: DlqInfo }) {
  const source =
    dlq.sourceTopic !== null && dlq.sourcePartition !== null && dlq.sourceOffset !== null
      ? { topic: dlq.sourceTopic, partition: dlq.sourcePartition, offset: dlq.sourceOffset }
      : null;
  return (
    <div className="dlq-box" data-testid="dlq-info">
      <h3>
        <DlqBadge /> Dead-letter copy
      </h3>
      <div className="dlq-error">{dlq.error ?? 'no error header'}</div>
      <div>
        Source:{' '}
        {source ? (
          <Link to={messagePath(source)} className="mono">
            {source.topic} / {source.partition} / {source.offset}
          </Link>
        ) : (
          <span className="mono">
            {dlq.sourceTopic ?? '?'} / {dlq.sourcePartition ?? '?'} / {dlq.sourceOffset ?? '?'}
          </span>
        )}
      </div>
    </div>
  );
}

function ChangePanel({ change }: { change: Change }) {
  const table = [change.db, change.schema, change.table].filter(Boolean).join('.');
  return (
    <Section
      title={
        <>
          Change <OpBadge op={change.op} /> {change.opName}
        </>
      }
    >
      <dl className="facts">
        <dt>table</dt>
        <dd className="mono">{table || '—'}</dd>
        <dt>LSN</dt>
        <dd className="mono">{change.lsn ?? '—'}</dd>
        <dt>txId</dt>
        <dd className="mono">{change.txId ?? '—'}</dd>
        <dt>source time</dt>
        <dd>{change.sourceTsMs === null ? '—' : fmtTime(change.sourceTsMs)}</dd>
      </dl>
      <div className="table-wrap">
        <table className="data compact diff" data-testid="change-diff">
          <thead>
            <tr>
              <th>column</th>
              <th>before</th>
              <th aria-hidden="true" />
              <th>after</th>
            </tr>
          </thead>
          <tbody>
            {change.diff.map((d) => (
              <tr key={d.column} className={d.changed ? 'changed' : undefined} data-changed={d.changed ? 'true' : 'false'}>
                <td className="mono">{d.column}</td>
                <td className={`mono ${change.before === null ? 'muted' : ''}`}>{change.before === null ? '' : cellText(d.before)}</td>
                <td className="arrow-cell">{d.changed ? '→' : ''}</td>
                <td className={`mono ${change.after === null ? 'muted' : ''}`}>{change.after === null ? '' : cellText(d.after)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}

function HeadersTable({ headers }: { headers: Message['headers'] }) {
  if (headers.length === 0) return <p className="muted">No headers.</p>;
  return (
    <div className="table-wrap">
      <table className="data compact" data-testid="headers-table">
        <thead>
          <tr>
            <th>header</th>
            <th>value</th>
          </tr>
        </thead>
        <tbody>
          {headers.map((h, i) => (
            <tr key={`${i}:${h.name}`} className={/error|dlq|exception/i.test(h.name) ? 'row-warn' : undefined}>
              <td className="mono">{h.name}</td>
              <td className="mono wrap">{h.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RowsPanel({ rows, change }: { rows: ApiState<RowsView>; change: Change | null }) {
  const { data, error, loading } = rows;
  const changed = new Set(change?.diff.filter((d) => d.changed).map((d) => d.column) ?? []);
  return (
    <Section title={`Rows${data?.table ? ` · ${data.table}` : ''}`}>
      <ErrorBox error={error} />
      {loading ? <Loading what="rows" /> : null}
      {data ? (
        <>
          {data.key ? (
            <p className="small">
              key <span className="mono">{JSON.stringify(data.key)}</span>
            </p>
          ) : null}
          <div className="grid-2">
            <div className="store" data-testid="rows-postgres">
              <h3>PostgreSQL{data.postgres ? <span className="muted"> · {data.postgres.database}</span> : null}</h3>
              {data.postgres ? (
                <>
                  <pre className="sql">{data.postgres.sql}</pre>
                  <ErrorBox error={data.postgres.error} />
                  <RowsTable rows={data.postgres.rows} highlight={changed} />
                </>
              ) : (
                <p className="muted">Not looked up (no table or key for this message).</p>
              )}
            </div>
            <div className="store" data-testid="rows-clickhouse">
              <h3>ClickHouse</h3>
              {data.clickhouse ? (
                <>
                  <pre className="sql">{data.clickhouse.sql}</pre>
                  <ErrorBox error={data.clickhouse.error} />
                  <RowsTable rows={data.clickhouse.rows} highlight={changed} />
                </>
              ) : (
                <p className="muted">Not looked up (no table or key for this message).</p>
              )}
            </div>
          </div>
        </>
      ) : null}
    </Section>
  );
}

export function MessagePage() {
  const { topic = '', partition = '', offset = '' } = useParams();
  const base = `/api/messages/${seg(topic)}/${seg(partition)}/${seg(offset)}`;
  const { data: m, error, loading } = useApi<Message>(base);
  const rows = useApi<RowsView>(m ? `${base}/rows` : null);

  return (
    <Page
      title={`Message ${topic}/${partition}/${offset}`}
      heading={
        <>
          <Link to="/kafka" className="crumb">
            Topics
          </Link>{' '}
          /{' '}
          <Link to={`/kafka/topics/${seg(topic)}`} className="crumb mono">
            {topic}
          </Link>{' '}
          / <span className="mono">{partition}</span> / <span className="mono">{offset}</span>
        </>
      }
      loaded={!loading && (m === null || !rows.loading)}
    >
      <ErrorBox error={error} />
      {loading ? <Loading what="message" /> : null}
      {m ? (
        <div data-testid="message-detail" className="message-detail">
          <div className="summary-line">
            <span>partition {m.partition}</span>
            <span className="mono">offset {m.offset}</span>
            <span>{fmtTime(m.timestamp)}</span>
            <span>{fmtBytes(m.sizeBytes)}</span>
            {m.change ? <OpBadge op={m.change.op} /> : null}
            {m.dlq ? <DlqBadge title={m.dlq.error} /> : null}
            {m.value.format === 'tombstone' ? <TombstoneBadge /> : null}
            <Link to={`/kafka/topics/${seg(m.topic)}?partition=${m.partition}&offset=${encodeURIComponent(m.offset)}`}>
              show in topic
            </Link>
          </div>
          {m.dlq ? <DlqPanel dlq={m.dlq} /> : null}
          {m.change ? <ChangePanel change={m.change} /> : null}
          <div className="grid-kv">
            <Section title="Key">
              <DecodedView decoded={m.key} />
            </Section>
            <Section title="Value">
              <DecodedView decoded={m.value} />
            </Section>
          </div>
          <Section title={`Headers (${m.headers.length})`}>
            <HeadersTable headers={m.headers} />
          </Section>
          <RowsPanel rows={rows} change={m.change} />
        </div>
      ) : null}
    </Page>
  );
}

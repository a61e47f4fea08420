import { useCallback, useMemo, useRef, useState } from 'react';
import type { CookbookEntry, SqlResult, SqlSchema } from '../../../src/contract';
import { apiPost, errorMessage, isAbort, seg } from '../api';
import { DataTable, type Col } from '../components/DataTable';
import { ErrorBox } from '../components/ErrorBox';
import { Page, Section } from '../components/Page';
import { cellText, fmtBytes, fmtClock, fmtInt } from '../format';
import { useApi, useStored } from '../hooks';
import { ResultChart, isNumericType } from '../sql/ResultChart';
import { SqlEditor } from '../sql/SqlEditor';

const HISTORY_MAX = 50;

interface HistoryEntry {
  sql: string;
  at: string;
}

function newQueryId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // Outside a secure context randomUUID is missing: build a v4 UUID by hand.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

type Row = unknown[];

function resultColumns(result: SqlResult): Col<Row>[] {
  return result.columns.map((c, i) => ({
    id: `c${i}`,
    header: c.name,
    accessorFn: (r: Row) => {
      const v = r[i];
      return typeof v === 'number' || typeof v === 'string' ? v : cellText(v);
    },
    meta: { numeric: isNumericType(c.type), mono: true, sub: c.type },
    cell: (ctx) => {
      const v = ctx.row.original[i];
      if (v === null || v === undefined) return <span className="null">NULL</span>;
      return cellText(v);
    },
  }));
}

function ResultTable({ result }: { result: SqlResult }) {
  const columns = useMemo(() => resultColumns(result), [result]);
  return (
    <DataTable
      data={result.rows}
      columns={columns}
      getRowId={(_, i) => String(i)}
      testId="sql-result"
      empty="The query returned no rows."
      className="result-table"
    />
  );
}

function History({ entries, onPick, onClear }: { entries: HistoryEntry[]; onPick: (sql: string) => void; onClear: () => void }) {
  return (
    <Section
      title="History"
      className="history"
      actions={
        entries.length ? (
          <button type="button" className="btn-small" onClick={onClear}>
            clear
          </button>
        ) : null
      }
    >
      {entries.length === 0 ? <p className="muted small">Queries you run appear here.</p> : null}
      <ul className="history-list" data-testid="sql-history">
        {entries.map((h) => (
          <li key={`${h.at}|${h.sql}`}>
            <button type="button" className="link-like" onClick={() => onPick(h.sql)} title={h.sql}>
              <span className="muted small">{fmtClock(h.at)}</span> <span className="mono">{h.sql.replace(/\s+/g, ' ').slice(0, 120)}</span>
            </button>
          </li>
        ))}
      </ul>
    </Section>
  );
}

export function SqlPage() {
  const [sql, setSql] = useStored<string>('local', 'cdc-console.sql.draft', 'SELECT 1');
  const [history, setHistory] = useStored<HistoryEntry[]>('local', 'cdc-console.sql.history', []);
  const cookbook = useApi<CookbookEntry[]>('/api/sql/cookbook');
  const schema = useApi<SqlSchema>('/api/sql/schema');
  const [result, setResult] = useState<SqlResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [running, setRunning] = useState<string | null>(null);
  const [cookbookChoice, setCookbookChoice] = useState('');
  const ctlRef = useRef<AbortController | null>(null);
  const sqlRef = useRef(sql);
  sqlRef.current = sql;
  const runningRef = useRef(running);
  runningRef.current = running;

  const run = useCallback(() => {
    const query = sqlRef.current.trim();
    if (!query || runningRef.current) return;
    const queryId = newQueryId();
    const ctl = new AbortController();
    ctlRef.current = ctl;
    setRunning(queryId);
    runningRef.current = queryId;
    setError(null);
    const entry: HistoryEntry = { sql: query, at: new Date().toISOString() };
    setHistory([entry, ...history.filter((h) => h.sql !== query)].slice(0, HISTORY_MAX));
    apiPost<SqlResult>('/api/sql', { query, queryId }, { signal: ctl.signal })
      .then((r) => setResult(r))
      .catch((err: unknown) => {
        if (isAbort(err)) setError('Query cancelled.');
        else setError(errorMessage(err));
        setResult(null);
      })
      .finally(() => {
        if (ctlRef.current === ctl) ctlRef.current = null;
        setRunning((r) => (r === queryId ? null : r));
        if (runningRef.current === queryId) runningRef.current = null;
      });
  }, [history, setHistory]);

  const cancel = useCallback(() => {
    const queryId = runningRef.current;
    const ctl = ctlRef.current;
    if (!queryId) return;
    apiPost(`/api/sql/${seg(queryId)}/cancel`, {})
      .catch(() => undefined)
      .finally(() => {
        // The server cancelled the query; stop waiting for its answer if it has not come.
        window.setTimeout(() => ctl?.abort(), 500);
      });
  }, []);

  const pickCookbook = (name: string): void => {
    setCookbookChoice(name);
    const entry = cookbook.data?.find((c) => c.name === name);
    if (entry) setSql(entry.sql);
  };

  const csvHref = `/api/sql/csv?query=${encodeURIComponent(sql.trim())}`;
  const loaded = !cookbook.loading && !schema.loading && running === null;

  return (
    <Page title="SQL" heading="SQL · ClickHouse" loaded={loaded}>
      <div className="sql-layout">
        <div className="sql-main">
          <div className="toolbar">
            <button type="button" className="btn-primary" onClick={run} disabled={running !== null} data-testid="sql-run" title="Ctrl/Cmd+Enter">
              {running ? 'Running…' : 'Run'}
            </button>
            <button type="button" onClick={cancel} disabled={running === null} data-testid="sql-cancel">
              Cancel
            </button>
            <select value={cookbookChoice} onChange={(e) => pickCookbook(e.target.value)} data-testid="cookbook-select" aria-label="cookbook">
              <option value="">Cookbook…</option>
              {(cookbook.data ?? []).map((c) => (
                <option key={c.name} value={c.name}>
                  {c.title}
                </option>
              ))}
            </select>
            <a href={csvHref} download="query.csv" className="button-link" data-testid="csv-download">
              Download CSV
            </a>
            <span className="muted small">Ctrl/Cmd+Enter runs · read-only analyst user</span>
          </div>
          <ErrorBox error={cookbook.error} title="Cookbook" />
          <ErrorBox error={schema.error} title="Schema (completion)" />
          <SqlEditor value={sql} onChange={setSql} onRun={run} schema={schema.data} />
          <ErrorBox error={error} testId="sql-error" />
          {result ? (
            <>
              <div className="stats" data-testid="sql-stats">
                {fmtInt(result.stats.rows)} rows · {fmtInt(result.stats.elapsedMs)} ms · read {fmtInt(result.stats.readRows)} rows,{' '}
                {fmtBytes(result.stats.readBytes)}
                {result.truncated ? (
                  <span className="warn-inline"> · showing the first {fmtInt(result.rows.length)} rows: download the CSV for all</span>
                ) : null}
              </div>
              <ResultTable result={result} />
              {result.rows.length > 0 ? (
                <Section title="Chart">
                  <ResultChart result={result} />
                </Section>
              ) : null}
            </>
          ) : null}
        </div>
        <History entries={history} onPick={setSql} onClear={() => setHistory([])} />
      </div>
    </Page>
  );
}

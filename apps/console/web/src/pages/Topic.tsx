import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import type { Message, MessagePage, SearchProgress, TopicDetail } from '../../../src/contract';
import { apiGet, errorMessage, isAbort, seg, withQuery } from '../api';
import { DataTable, type Col } from '../components/DataTable';
import { ErrorBox, Loading } from '../components/ErrorBox';
import { MessageTable, messageId } from '../components/MessageTable';
import { Page, Section } from '../components/Page';
import { fmtBytes, fmtInt, fmtRetention } from '../format';
import { useApi } from '../hooks';

const PAGE_SIZE = 50;

/** The browser state, all of it in the URL query string. */
interface BrowseState {
  partition: string; // '' = all
  from: 'offset' | 'timestamp';
  offset: string;
  timestamp: string; // ISO
  key: string;
  text: string;
  field: string;
}

function readState(p: URLSearchParams): BrowseState {
  return {
    partition: p.get('partition') ?? '',
    from: p.get('timestamp') ? 'timestamp' : 'offset',
    offset: p.get('offset') ?? '',
    timestamp: p.get('timestamp') ?? '',
    key: p.get('key') ?? '',
    text: p.get('text') ?? '',
    field: p.get('field') ?? '',
  };
}

function toParams(s: BrowseState): Record<string, string> {
  const out: Record<string, string> = {};
  if (s.partition !== '') out.partition = s.partition;
  if (s.from === 'offset' && s.offset.trim()) out.offset = s.offset.trim();
  if (s.from === 'timestamp' && s.timestamp) out.timestamp = s.timestamp;
  if (s.key.trim()) out.key = s.key.trim();
  if (s.text.trim()) out.text = s.text.trim();
  if (s.field.trim()) out.field = s.field.trim();
  return out;
}

const hasFilter = (s: BrowseState): boolean => Boolean(s.key.trim() || s.text.trim() || s.field.trim());

/** ISO → the value of an <input type="datetime-local"> (local time). */
function isoToLocal(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function localToIso(local: string): string {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

function newestFirst(a: Message, b: Message): number {
  const t = Date.parse(b.timestamp) - Date.parse(a.timestamp);
  if (t !== 0 && Number.isFinite(t)) return t;
  if (a.partition !== b.partition) return a.partition - b.partition;
  return Number(b.offset) - Number(a.offset);
}

function mergeMessages(a: Message[], b: Message[]): Message[] {
  const seen = new Set(a.map(messageId));
  return [...a, ...b.filter((m) => !seen.has(messageId(m)))].sort(newestFirst);
}

// ---------------------------------------------------------------- browsing

interface Browse {
  messages: Message[];
  older: MessagePage['older'];
  loading: boolean;
  loadingOlder: boolean;
  error: string | null;
  loadOlder: () => void;
}

/** GET /api/topics/:topic/messages, newest first, with "older" pages appended. */
function useBrowse(topic: string, state: BrowseState, enabled: boolean): Browse {
  const { partition, from, offset, timestamp } = state;
  const path = enabled
    ? withQuery(`/api/topics/${seg(topic)}/messages`, {
        partition,
        offset: from === 'offset' ? offset.trim() : '',
        timestamp: from === 'timestamp' ? timestamp : '',
        limit: PAGE_SIZE,
      })
    : null;
  // Results are tagged with the request path: a new path is "loading" from its first render.
  const [result, setResult] = useState<{ path: string; messages: Message[]; older: MessagePage['older']; error: string | null } | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const ctlRef = useRef<AbortController | null>(null);

  useEffect(() => {
    if (path === null) return;
    const ctl = new AbortController();
    ctlRef.current = ctl;
    setLoadingOlder(false);
    apiGet<MessagePage>(path, { signal: ctl.signal })
      .then((p) => setResult({ path, messages: [...p.messages].sort(newestFirst), older: p.older, error: null }))
      .catch((err: unknown) => {
        if (!isAbort(err)) setResult({ path, messages: [], older: [], error: errorMessage(err) });
      });
    return () => ctl.abort();
  }, [path]);

  const current = result !== null && result.path === path ? result : null;
  const older = current?.older ?? EMPTY_OLDER;

  const loadOlder = useCallback(() => {
    if (older.length === 0 || path === null) return;
    const ctl = ctlRef.current ?? new AbortController();
    setLoadingOlder(true);
    // The server gives the next position per partition: ask each one for its share of the older page.
    const limit = Math.max(1, Math.ceil(PAGE_SIZE / older.length));
    Promise.all(
      older.map((o) =>
        apiGet<MessagePage>(
          withQuery(`/api/topics/${seg(topic)}/messages`, { partition: o.partition, offset: o.offset, limit }),
          { signal: ctl.signal },
        ),
      ),
    )
      .then((pages) => {
        const next = new Map<number, string>();
        for (const p of pages) for (const o of p.older) next.set(o.partition, o.offset);
        setResult((prev) =>
          prev && prev.path === path
            ? {
                ...prev,
                messages: pages.reduce((acc, p) => mergeMessages(acc, p.messages), prev.messages),
                older: [...next].map(([partition, offset]) => ({ partition, offset })),
              }
            : prev,
        );
      })
      .catch((err: unknown) => {
        if (!isAbort(err)) setResult((prev) => (prev && prev.path === path ? { ...prev, error: errorMessage(err) } : prev));
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoadingOlder(false);
      });
  }, [older, topic, path]);

  return {
    messages: current?.messages ?? EMPTY_MESSAGES,
    older,
    loading: path !== null && current === null,
    loadingOlder,
    error: current?.error ?? null,
    loadOlder,
  };
}

const EMPTY_MESSAGES: Message[] = [];
const EMPTY_OLDER: MessagePage['older'] = [];

// ---------------------------------------------------------------- searching

interface Search {
  matches: Message[];
  progress: SearchProgress | null;
  running: boolean;
  done: boolean;
  error: string | null;
  stop: () => void;
}

interface SearchRun {
  url: string;
  matches: Message[];
  progress: SearchProgress | null;
  running: boolean;
  error: string | null;
}

/** The SSE search, newest first from the chosen offset or time: `progress`, `match`, `done`, `error`. */
function useSearch(topic: string, state: BrowseState, enabled: boolean): Search {
  const url = enabled ? withQuery(`/api/topics/${seg(topic)}/search`, { ...toParams(state), limit: 100 }) : null;
  const [run, setRun] = useState<SearchRun | null>(null);
  const esRef = useRef<EventSource | null>(null);

  const stop = useCallback(() => {
    esRef.current?.close();
    esRef.current = null;
    setRun((r) => (r ? { ...r, running: false } : r));
  }, []);

  useEffect(() => {
    if (url === null) return;
    const es = new EventSource(url);
    esRef.current = es;
    setRun({ url, matches: [], progress: null, running: true, error: null });
    const update = (f: (r: SearchRun) => SearchRun): void => setRun((r) => (r && r.url === url ? f(r) : r));
    let buffer: Message[] = [];
    let flush: number | undefined;
    const flushNow = (): void => {
      flush = undefined;
      const add = buffer;
      buffer = [];
      if (add.length) update((r) => ({ ...r, matches: mergeMessages(r.matches, add) }));
    };
    const finish = (error: string | null): void => {
      es.close();
      if (esRef.current === es) esRef.current = null;
      if (flush !== undefined) window.clearTimeout(flush);
      flushNow();
      update((r) => ({ ...r, running: false, error }));
    };
    es.addEventListener('progress', (ev: MessageEvent<string>) => {
      const p = JSON.parse(ev.data) as SearchProgress;
      update((r) => ({ ...r, progress: p }));
    });
    es.addEventListener('match', (ev: MessageEvent<string>) => {
      buffer.push(JSON.parse(ev.data) as Message);
      flush ??= window.setTimeout(flushNow, 100);
    });
    es.addEventListener('done', (ev: MessageEvent<string>) => {
      const p = JSON.parse(ev.data) as SearchProgress;
      update((r) => ({ ...r, progress: p }));
      finish(null);
    });
    // Both the server's `error` event (with data) and a broken connection (without).
    es.addEventListener('error', (ev: Event) => {
      if (ev instanceof MessageEvent && typeof ev.data === 'string' && ev.data) {
        let detail: string = ev.data;
        try {
          const d = JSON.parse(ev.data) as { detail?: unknown };
          if (typeof d.detail === 'string') detail = d.detail;
        } catch {
          /* plain text */
        }
        finish(detail);
      } else {
        finish('The search connection was lost.');
      }
    });
    return () => {
      es.close();
      if (flush !== undefined) window.clearTimeout(flush);
    };
  }, [url]);

  const current = run !== null && run.url === url ? run : null;
  return {
    matches: current?.matches ?? EMPTY_MESSAGES,
    progress: current?.progress ?? null,
    running: url !== null && (current === null || current.running),
    done: current !== null && !current.running,
    error: current?.error ?? null,
    stop,
  };
}

// ---------------------------------------------------------------- view

function FilterForm({ detail, applied, onApply }: { detail: TopicDetail | null; applied: BrowseState; onApply: (s: BrowseState) => void }) {
  const [draft, setDraft] = useState<BrowseState>(applied);
  useEffect(() => setDraft(applied), [applied]);
  const set = <K extends keyof BrowseState>(k: K, v: BrowseState[K]): void => setDraft((d) => ({ ...d, [k]: v }));
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    onApply(draft);
  };
  const clear = (): void => onApply({ ...draft, key: '', text: '', field: '', offset: '', timestamp: '' });
  return (
    <form className="filters" onSubmit={submit}>
      <label>
        <span>Partition</span>
        <select value={draft.partition} onChange={(e) => set('partition', e.target.value)} data-testid="filter-partition">
          <option value="">all</option>
          {(detail?.partitionInfo ?? []).map((p) => (
            <option key={p.partition} value={String(p.partition)}>
              {p.partition}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>From</span>
        <select value={draft.from} onChange={(e) => set('from', e.target.value === 'timestamp' ? 'timestamp' : 'offset')} data-testid="filter-from">
          <option value="offset">offset</option>
          <option value="timestamp">timestamp</option>
        </select>
      </label>
      {draft.from === 'offset' ? (
        <label>
          <span>Offset</span>
          <input
            type="text"
            inputMode="numeric"
            pattern="[0-9]*"
            placeholder="newest"
            value={draft.offset}
            onChange={(e) => set('offset', e.target.value)}
            data-testid="filter-offset"
            size={10}
          />
        </label>
      ) : (
        <label>
          <span>Timestamp</span>
          <input
            type="datetime-local"
            step="1"
            value={isoToLocal(draft.timestamp)}
            onChange={(e) => set('timestamp', localToIso(e.target.value))}
            data-testid="filter-timestamp"
          />
        </label>
      )}
      <label>
        <span>Key</span>
        <input type="text" placeholder="contains…" value={draft.key} onChange={(e) => set('key', e.target.value)} data-testid="filter-key" size={12} />
      </label>
      <label>
        <span>Text</span>
        <input type="text" placeholder="in value…" value={draft.text} onChange={(e) => set('text', e.target.value)} data-testid="filter-text" size={14} />
      </label>
      <label>
        <span>Field</span>
        <input
          type="text"
          placeholder="after.user_id = 922"
          value={draft.field}
          onChange={(e) => set('field', e.target.value)}
          data-testid="filter-field"
          className="mono"
          size={20}
        />
      </label>
      <div className="filter-buttons">
        <button type="submit" className="btn-primary" data-testid="filter-apply">
          Apply
        </button>
        <button type="button" onClick={clear}>
          Clear
        </button>
      </div>
    </form>
  );
}

function SearchBar({ search }: { search: Search }) {
  const p = search.progress;
  const pct = p && p.total > 0 ? Math.min(100, (100 * p.scanned) / p.total) : 0;
  return (
    <div className="search-progress" data-testid="search-progress" data-running={search.running ? 'true' : 'false'}>
      <progress max={100} value={search.running && !p ? undefined : pct} />
      <span>
        scanned {fmtInt(p?.scanned ?? 0)} / {fmtInt(p?.total ?? 0)} · matched {fmtInt(p?.matched ?? search.matches.length)}
        {p?.ms !== undefined ? ` · ${fmtInt(p.ms)} ms` : ''}
        {search.running ? ' · searching…' : search.done ? ' · done' : ''}
      </span>
      {search.running ? (
        <button type="button" onClick={search.stop} data-testid="search-stop">
          Stop
        </button>
      ) : null}
    </div>
  );
}

type PartitionRow = TopicDetail['partitionInfo'][number];
const partitionCols: Col<PartitionRow>[] = [
  { id: 'partition', header: 'Partition', accessorFn: (p) => p.partition, meta: { numeric: true } },
  { id: 'low', header: 'Low', accessorFn: (p) => p.low, meta: { numeric: true }, cell: (c) => fmtInt(c.row.original.low) },
  { id: 'high', header: 'High', accessorFn: (p) => p.high, meta: { numeric: true }, cell: (c) => fmtInt(c.row.original.high) },
  { id: 'messages', header: 'Messages', accessorFn: (p) => p.messages, meta: { numeric: true }, cell: (c) => fmtInt(c.row.original.messages) },
  { id: 'leader', header: 'Leader', accessorFn: (p) => p.leader, meta: { numeric: true } },
];

type ConfigRow = TopicDetail['configs'][number];
const configCols: Col<ConfigRow>[] = [
  { id: 'name', header: 'Config', accessorFn: (c) => c.name, meta: { mono: true } },
  {
    id: 'value',
    header: 'Value',
    accessorFn: (c) => c.value ?? '',
    meta: { mono: true },
    cell: (c) => <span className={c.row.original.isDefault ? 'muted' : 'strong'}>{c.row.original.value ?? 'null'}</span>,
  },
  { id: 'default', header: 'Default', accessorFn: (c) => (c.isDefault ? 'yes' : 'no') },
];

export function TopicPage() {
  const topic = useParams().topic ?? '';
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => readState(params), [params]);
  const searching = hasFilter(state);
  const detail = useApi<TopicDetail>(`/api/topics/${seg(topic)}`, 15_000);
  const browse = useBrowse(topic, state, !searching);
  const search = useSearch(topic, state, searching);
  const [showConfigs, setShowConfigs] = useState(false);
  const nonDefault = detail.data?.configs.filter((c) => !c.isDefault).length ?? 0;

  const loaded = !detail.loading && (searching ? search.done : !browse.loading);

  return (
    <Page
      title={`Topic ${topic}`}
      heading={
        <>
          <Link to="/kafka" className="crumb">
            Topics
          </Link>{' '}
          / <span className="mono">{topic}</span>
        </>
      }
      loaded={loaded}
    >
      <ErrorBox error={detail.error} />
      {detail.data ? (
        <div className="summary-line">
          <span>{fmtInt(detail.data.partitions)} partitions</span>
          <span>{fmtInt(detail.data.messages)} messages</span>
          <span>size {fmtBytes(detail.data.sizeBytes)}</span>
          <span>cleanup {detail.data.cleanupPolicy}</span>
          <span>retention {fmtRetention(detail.data.retentionMs)}</span>
          {detail.data.internal ? <span className="badge">internal</span> : null}
        </div>
      ) : null}

      <Section title="Messages">
        <FilterForm detail={detail.data} applied={state} onApply={(s) => setParams(toParams(s))} />
        {searching ? (
          <>
            <SearchBar search={search} />
            <ErrorBox error={search.error} title="Search" />
            <MessageTable messages={search.matches} empty={search.running ? 'Searching…' : 'No matches.'} />
          </>
        ) : (
          <>
            <ErrorBox error={browse.error} />
            {browse.loading ? (
              <Loading what="messages" />
            ) : (
              <>
                <MessageTable messages={browse.messages} />
                <div className="pager">
                  <span className="muted small">{fmtInt(browse.messages.length)} messages, newest first</span>
                  <button
                    type="button"
                    onClick={browse.loadOlder}
                    disabled={browse.older.length === 0 || browse.loadingOlder}
                    data-testid="messages-older"
                  >
                    {browse.loadingOlder ? 'Loading…' : 'Older'}
                  </button>
                </div>
              </>
            )}
          </>
        )}
      </Section>

      {detail.data ? (
        <div className="grid-2">
          <Section title="Partitions">
            <DataTable data={detail.data.partitionInfo} columns={partitionCols} getRowId={(p) => String(p.partition)} testId="partitions-table" />
          </Section>
          <Section
            title={`Configs (${fmtInt(nonDefault)} set)`}
            actions={
              <label className="check">
                <input type="checkbox" checked={showConfigs} onChange={(e) => setShowConfigs(e.target.checked)} /> show defaults
              </label>
            }
          >
            <DataTable
              data={showConfigs ? detail.data.configs : detail.data.configs.filter((c) => !c.isDefault)}
              columns={configCols}
              getRowId={(c) => c.name}
              testId="configs-table"
              empty="Every config is at its default."
            />
          </Section>
        </div>
      ) : null}
    </Page>
  );
}

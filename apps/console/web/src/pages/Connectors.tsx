import { useCallback, useEffect, useRef, useState } from 'react';
import type { ConnectorAction, ConnectorView, SlotsView } from '../../../src/contract';
import { ApiError, apiPost, errorMessage, seg } from '../api';
import { StateBadge } from '../components/Badges';
import { ErrorBox, Loading } from '../components/ErrorBox';
import { ConfirmDialog } from '../components/Modal';
import { Page, Section } from '../components/Page';
import { fmtBytes } from '../format';
import { useApi, type ApiState } from '../hooks';
import { useSession } from '../session';

const ACTIONS: { action: ConnectorAction; label: string; danger?: boolean; explain: string }[] = [
  { action: 'pause', label: 'Pause', explain: 'The connector and its tasks stop processing until resumed.' },
  { action: 'resume', label: 'Resume', explain: 'The connector and its tasks start processing again.' },
  { action: 'restart', label: 'Restart', danger: true, explain: 'The connector and all its tasks are restarted.' },
  { action: 'restart-failed', label: 'Restart failed tasks', explain: 'Only the failed connector instance and tasks are restarted.' },
];

const POLL_MS = 1_000;
const POLL_TIMEOUT_MS = 30_000;

/** Everything whose change an action should bring about. */
function signature(c: ConnectorView | undefined): string {
  if (!c) return '';
  return [c.state, ...c.tasks.map((t) => `${t.id}:${t.state}`)].join('|');
}

interface Pending {
  name: string;
  action: ConnectorAction;
}

interface Watch {
  name: string;
  action: ConnectorAction;
  before: string;
  since: number;
}

function Trace({ trace }: { trace: string | null }) {
  if (!trace) return null;
  const first = trace.split('\n', 1)[0] ?? '';
  return (
    <details className="trace">
      <summary>
        <span className="trace-first">{first}</span>
      </summary>
      <pre>{trace}</pre>
    </details>
  );
}

function ConnectorCard({
  c,
  writeEnabled,
  busy,
  note,
  onAction,
}: {
  c: ConnectorView;
  writeEnabled: boolean;
  busy: boolean;
  note: { text: string; tone: 'info' | 'ok' | 'bad' } | undefined;
  onAction: (a: ConnectorAction) => void;
}) {
  const failedTasks = c.tasks.filter((t) => t.state === 'FAILED').length;
  return (
    <div className={`card connector state-${c.state.toLowerCase()}`} data-testid={`connector-${c.name}`}>
      <div className="card-head">
        <h3 className="mono">{c.name}</h3>
        <StateBadge state={c.state} testId="connector-state" />
        <span className="muted small">
          {c.type}
          {c.workerId ? ` · ${c.workerId}` : ''}
        </span>
      </div>
      <Trace trace={c.trace} />
      <table className="data compact tasks">
        <thead>
          <tr>
            <th className="num">task</th>
            <th>state</th>
            <th>worker</th>
          </tr>
        </thead>
        <tbody>
          {c.tasks.map((t) => (
            <tr key={t.id}>
              <td className="num">{t.id}</td>
              <td>
                <StateBadge state={t.state} testId="task-state" />
                <Trace trace={t.trace} />
              </td>
              <td className="mono small">{t.workerId ?? '—'}</td>
            </tr>
          ))}
          {c.tasks.length === 0 ? (
            <tr className="empty">
              <td colSpan={3}>No tasks.</td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <div className="card-actions">
        {ACTIONS.map((a) => (
          <button
            key={a.action}
            type="button"
            className={a.danger ? 'btn-danger-outline' : undefined}
            data-testid={`action-${a.action}`}
            disabled={!writeEnabled || busy}
            title={writeEnabled ? a.explain : 'Write actions are disabled on this server'}
            onClick={() => onAction(a.action)}
          >
            {a.label}
            {a.action === 'restart-failed' && failedTasks ? ` (${failedTasks})` : ''}
          </button>
        ))}
        {note ? (
          <span className={`note note-${note.tone}`} data-testid="action-note">
            {note.text}
          </span>
        ) : null}
      </div>
    </div>
  );
}

function SlotsSection({ slots }: { slots: ApiState<SlotsView> }) {
  const { data, error, loading } = slots;
  return (
    <Section title="Replication slots" actions={data ? <span className="muted small">alert above {fmtBytes(data.maxRetainedBytes)} retained</span> : null}>
      <ErrorBox error={error} />
      {loading ? <Loading what="slots" /> : null}
      {data ? (
        <>
          {data.errors.map((e) => (
            <div className="warn-box" key={e.database}>
              <strong>{e.database}</strong>: {e.error}
            </div>
          ))}
          <div className="table-wrap">
            <table className="data" data-testid="slots-table">
              <thead>
                <tr>
                  <th>database</th>
                  <th>slot</th>
                  <th>plugin</th>
                  <th>active</th>
                  <th>WAL status</th>
                  <th>confirmed LSN</th>
                  <th className="num">retained WAL</th>
                  <th className="num">behind</th>
                  <th>alerts</th>
                </tr>
              </thead>
              <tbody>
                {data.slots.map((s) => (
                  <tr key={`${s.database}/${s.slot}`} className={s.alerts.length ? 'row-warn' : undefined}>
                    <td>{s.database}</td>
                    <td className="mono">{s.slot}</td>
                    <td className="mono">{s.plugin ?? '—'}</td>
                    <td>{s.active ? <span className="badge state state-ok">active</span> : <span className="badge state state-warn">inactive</span>}</td>
                    <td>{s.walStatus ?? '—'}</td>
                    <td className="mono">{s.confirmedFlushLsn ?? '—'}</td>
                    <td className="num">{fmtBytes(s.retainedBytes)}</td>
                    <td className="num">{fmtBytes(s.behindBytes)}</td>
                    <td>
                      {s.alerts.map((a) => (
                        <div className="alert-line" key={a}>
                          ⚠ {a}
                        </div>
                      ))}
                    </td>
                  </tr>
                ))}
                {data.slots.length === 0 ? (
                  <tr className="empty">
                    <td colSpan={9}>No replication slots.</td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </Section>
  );
}

export function ConnectorsPage() {
  const { writeEnabled, token } = useSession();
  const [watch, setWatch] = useState<Watch | null>(null);
  const { data, error, loading, reload } = useApi<ConnectorView[]>('/api/connectors', watch ? POLL_MS : 10_000);
  // Fetched here, not in its section, so the page counts as loaded only with both.
  const slots = useApi<SlotsView>('/api/slots', 10_000);
  const [pending, setPending] = useState<Pending | null>(null);
  const [notes, setNotes] = useState<Record<string, { text: string; tone: 'info' | 'ok' | 'bad' }>>({});
  const dataRef = useRef(data);
  dataRef.current = data;

  const note = useCallback((name: string, text: string, tone: 'info' | 'ok' | 'bad') => setNotes((n) => ({ ...n, [name]: { text, tone } })), []);

  // After an action: poll until the connector's (or a task's) state changes.
  useEffect(() => {
    if (!watch || !data) return;
    const now = data.find((c) => c.name === watch.name);
    const sig = signature(now);
    if (sig !== watch.before) {
      note(watch.name, `${watch.action}: state is now ${now?.state ?? 'gone'}`, now?.state === 'FAILED' ? 'bad' : 'ok');
      setWatch(null);
    } else if (Date.now() - watch.since > POLL_TIMEOUT_MS) {
      note(watch.name, `${watch.action}: no state change within ${POLL_TIMEOUT_MS / 1000} s`, 'info');
      setWatch(null);
    }
  }, [data, watch, note]);

  const run = async (p: Pending): Promise<void> => {
    setPending(null);
    const before = signature(dataRef.current?.find((c) => c.name === p.name));
    note(p.name, `${p.action}…`, 'info');
    try {
      await apiPost<{ status: ConnectorView }>(`/api/connectors/${seg(p.name)}/${p.action}`, {}, { token });
      note(p.name, `${p.action} accepted, waiting for the state to change…`, 'info');
      setWatch({ name: p.name, action: p.action, before, since: Date.now() });
      reload();
    } catch (err) {
      const hint = err instanceof ApiError && err.status === 401 ? ' (check the token in the header)' : '';
      note(p.name, `${p.action} failed: ${errorMessage(err)}${hint}`, 'bad');
    }
  };

  const cancel = useCallback(() => setPending(null), []);
  const spec = pending ? ACTIONS.find((a) => a.action === pending.action) : undefined;

  return (
    <Page title="Connectors" loaded={!loading && !slots.loading}>
      <ErrorBox error={error} />
      {!writeEnabled ? <div className="info-box">Write actions are disabled: the server has no console token configured.</div> : null}
      {writeEnabled && !token ? <div className="info-box">Enter the console token in the header to use the actions.</div> : null}
      {loading ? <Loading what="connectors" /> : null}
      <div className="cards">
        {(data ?? []).map((c) => (
          <ConnectorCard
            key={c.name}
            c={c}
            writeEnabled={writeEnabled}
            busy={watch?.name === c.name}
            note={notes[c.name]}
            onAction={(action) => setPending({ name: c.name, action })}
          />
        ))}
        {data && data.length === 0 ? <p className="muted">No connectors.</p> : null}
      </div>
      <SlotsSection slots={slots} />
      {pending && spec ? (
        <ConfirmDialog
          title={`${spec.label} ${pending.name}?`}
          confirmLabel={spec.label}
          danger={spec.danger ?? false}
          onCancel={cancel}
          onConfirm={() => void run(pending)}
        >
          <p>{spec.explain}</p>
        </ConfirmDialog>
      ) : null}
    </Page>
  );
}

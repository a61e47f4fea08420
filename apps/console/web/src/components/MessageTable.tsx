import { Link, useNavigate } from 'react-router';
import type { Decoded, Message } from '../../../src/contract';
import { seg } from '../api';
import { fmtBytes, fmtTime, truncate } from '../format';
import { DlqBadge, OpBadge, TombstoneBadge } from './Badges';
import { DataTable, type Col } from './DataTable';

export function messagePath(m: { topic: string; partition: number; offset: string }): string {
  return `/kafka/topics/${seg(m.topic)}/messages/${seg(m.partition)}/${seg(m.offset)}`;
}

/** One line for a decoded key or value. */
export function decodedSummary(d: Decoded, max = 80): string {
  switch (d.format) {
    case 'tombstone':
      return 'null';
    case 'raw':
      return truncate(d.raw.utf8 ?? `base64:${d.raw.base64}`, max);
    default: {
      const v = d.value;
      if (v === null || v === undefined) return 'null';
      if (typeof v === 'string') return truncate(v, max);
      if (typeof v === 'object' && !Array.isArray(v)) {
        // Debezium keys are often {"id": 1} or {"payload": {...}}: show the leaves.
        const obj = v as Record<string, unknown>;
        const inner = obj.payload && typeof obj.payload === 'object' ? (obj.payload as Record<string, unknown>) : obj;
        const parts = Object.entries(inner).map(([k, x]) => `${k}=${typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x)}`);
        return truncate(parts.join(', '), max);
      }
      return truncate(JSON.stringify(v), max);
    }
  }
}

function valueSummary(m: Message): string {
  if (m.value.format === 'tombstone') return '';
  if (m.change) {
    const c = m.change;
    const table = [c.schema, c.table].filter(Boolean).join('.');
    const changed = c.op === 'u' ? c.diff.filter((d) => d.changed).map((d) => d.column) : [];
    const row = c.after ?? c.before;
    const preview = row
      ? Object.entries(row)
          .slice(0, 4)
          .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
          .join(', ')
      : '';
    const head = `${c.opName}${table ? ` ${table}` : ''}`;
    return changed.length ? `${head} · changed: ${changed.join(', ')}` : preview ? `${head} · ${preview}` : head;
  }
  if (m.dlq?.error) return truncate(m.dlq.error, 100);
  return decodedSummary(m.value, 100);
}

const columns: Col<Message>[] = [
  { id: 'partition', header: 'P', accessorFn: (m) => m.partition, meta: { numeric: true } },
  {
    id: 'offset',
    header: 'Offset',
    accessorFn: (m) => Number(m.offset),
    meta: { numeric: true, mono: true },
    cell: (c) => (
      <Link to={messagePath(c.row.original)} onClick={(e) => e.stopPropagation()}>
        {c.row.original.offset}
      </Link>
    ),
  },
  { id: 'timestamp', header: 'Timestamp', accessorFn: (m) => m.timestamp, cell: (c) => <span className="nowrap">{fmtTime(c.row.original.timestamp)}</span> },
  { id: 'key', header: 'Key', accessorFn: (m) => decodedSummary(m.key, 48), meta: { mono: true } },
  {
    id: 'kind',
    header: '',
    enableSorting: false,
    cell: (c) => {
      const m = c.row.original;
      return (
        <span className="badges">
          {m.change ? <OpBadge op={m.change.op} /> : null}
          {m.dlq ? <DlqBadge title={m.dlq.error} /> : null}
          {m.value.format === 'tombstone' ? <TombstoneBadge /> : null}
          {m.value.format === 'avro' ? <span className="badge fmt">avro</span> : null}
        </span>
      );
    },
  },
  { id: 'value', header: 'Value', accessorFn: valueSummary, meta: { className: 'value-cell' } },
  { id: 'size', header: 'Size', accessorFn: (m) => m.sizeBytes, meta: { numeric: true }, cell: (c) => fmtBytes(c.row.original.sizeBytes) },
];

export function messageId(m: Message): string {
  return `${m.partition}:${m.offset}`;
}

export function MessageTable({ messages, empty }: { messages: Message[]; empty?: string }) {
  const navigate = useNavigate();
  return (
    <DataTable
      data={messages}
      columns={columns}
      getRowId={messageId}
      testId="messages-table"
      rowTestId="message-row"
      onRowClick={(m) => navigate(messagePath(m))}
      rowClassName={(m) => (m.dlq ? 'row-dlq' : m.value.format === 'tombstone' ? 'row-tombstone' : undefined)}
      empty={empty ?? 'No messages.'}
      sortable={false}
    />
  );
}

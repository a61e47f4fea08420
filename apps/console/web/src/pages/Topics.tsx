import { useMemo } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import type { TopicSummary } from '../../../src/contract';
import { seg } from '../api';
import { DataTable, type Col } from '../components/DataTable';
import { ErrorBox, Loading } from '../components/ErrorBox';
import { Page } from '../components/Page';
import { fmtBytes, fmtInt, fmtRetention } from '../format';
import { useApi } from '../hooks';

const columns: Col<TopicSummary>[] = [
  {
    id: 'topic',
    header: 'Topic',
    accessorFn: (t) => t.topic,
    cell: (c) => (
      <Link to={`/kafka/topics/${seg(c.row.original.topic)}`} onClick={(e) => e.stopPropagation()}>
        {c.row.original.topic}
      </Link>
    ),
  },
  { id: 'partitions', header: 'Partitions', accessorFn: (t) => t.partitions, meta: { numeric: true }, cell: (c) => fmtInt(c.row.original.partitions) },
  { id: 'messages', header: 'Messages', accessorFn: (t) => t.messages, meta: { numeric: true }, cell: (c) => fmtInt(c.row.original.messages) },
  { id: 'size', header: 'Size', accessorFn: (t) => t.sizeBytes ?? -1, meta: { numeric: true }, cell: (c) => fmtBytes(c.row.original.sizeBytes) },
  { id: 'cleanup', header: 'Cleanup', accessorFn: (t) => t.cleanupPolicy },
  {
    id: 'retention',
    header: 'Retention',
    accessorFn: (t) => Number(t.retentionMs),
    meta: { numeric: true },
    cell: (c) => fmtRetention(c.row.original.retentionMs),
  },
];

export function TopicsPage() {
  const { data, error, loading } = useApi<TopicSummary[]>('/api/topics', 15_000);
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const showInternal = params.get('internal') === '1';
  const rows = useMemo(() => (data ?? []).filter((t) => showInternal || !t.internal), [data, showInternal]);

  return (
    <Page
      title="Topics"
      loaded={!loading}
      actions={
        <label className="check">
          <input
            type="checkbox"
            data-testid="show-internal"
            checked={showInternal}
            onChange={(e) => setParams(e.target.checked ? { internal: '1' } : {}, { replace: true })}
          />
          show internal topics
        </label>
      }
    >
      <ErrorBox error={error} />
      {loading ? (
        <Loading what="topics" />
      ) : (
        <DataTable
          data={rows}
          columns={columns}
          getRowId={(t) => t.topic}
          testId="topics-table"
          onRowClick={(t) => navigate(`/kafka/topics/${seg(t.topic)}`)}
          empty="No topics."
        />
      )}
      {data ? (
        <p className="muted small">
          {fmtInt(rows.length)} of {fmtInt(data.length)} topics shown
        </p>
      ) : null}
    </Page>
  );
}

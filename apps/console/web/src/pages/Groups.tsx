import { Link, useNavigate } from 'react-router';
import type { GroupSummary } from '../../../src/contract';
import { seg } from '../api';
import { StateBadge } from '../components/Badges';
import { DataTable, type Col } from '../components/DataTable';
import { ErrorBox, Loading } from '../components/ErrorBox';
import { Page } from '../components/Page';
import { fmtInt } from '../format';
import { useApi } from '../hooks';

const columns: Col<GroupSummary>[] = [
  {
    id: 'group',
    header: 'Group',
    accessorFn: (g) => g.group,
    cell: (c) => (
      <Link to={`/kafka/groups/${seg(c.row.original.group)}`} onClick={(e) => e.stopPropagation()}>
        {c.row.original.group}
      </Link>
    ),
  },
  { id: 'state', header: 'State', accessorFn: (g) => g.state, cell: (c) => <StateBadge state={c.row.original.state} /> },
  { id: 'members', header: 'Members', accessorFn: (g) => g.members, meta: { numeric: true }, cell: (c) => fmtInt(c.row.original.members) },
  {
    id: 'topics',
    header: 'Topics',
    accessorFn: (g) => g.topics.join(', '),
    cell: (c) => (
      <span className="topic-list">
        {c.row.original.topics.map((t) => (
          <Link key={t} to={`/kafka/topics/${seg(t)}`} onClick={(e) => e.stopPropagation()} className="mono">
            {t}
          </Link>
        ))}
      </span>
    ),
  },
  {
    id: 'lag',
    header: 'Total lag',
    accessorFn: (g) => g.totalLag ?? -1,
    meta: { numeric: true },
    cell: (c) => <span className={c.row.original.totalLag ? 'lag-positive' : undefined}>{fmtInt(c.row.original.totalLag)}</span>,
  },
];

export function GroupsPage() {
  const { data, error, loading } = useApi<GroupSummary[]>('/api/groups', 10_000);
  const navigate = useNavigate();
  return (
    <Page title="Consumer groups" loaded={!loading}>
      <ErrorBox error={error} />
      {loading ? (
        <Loading what="groups" />
      ) : (
        <DataTable
          data={data ?? []}
          columns={columns}
          getRowId={(g) => g.group}
          testId="groups-table"
          onRowClick={(g) => navigate(`/kafka/groups/${seg(g.group)}`)}
          empty="No consumer groups."
        />
      )}
    </Page>
  );
}

import { useMemo } from 'react';
import { Link, useParams } from 'react-router';
import type { GroupDetail } from '../../../src/contract';
import { seg } from '../api';
import { StateBadge } from '../components/Badges';
import { ChartView } from '../components/Chart';
import { DataTable, type Col } from '../components/DataTable';
import { ErrorBox, Loading } from '../components/ErrorBox';
import { Page, Section } from '../components/Page';
import { fmtInt } from '../format';
import { useApi } from '../hooks';

type PartitionLag = GroupDetail['partitions'][number];

const columns: Col<PartitionLag>[] = [
  {
    id: 'topic',
    header: 'Topic',
    accessorFn: (p) => p.topic,
    cell: (c) => (
      <Link to={`/kafka/topics/${seg(c.row.original.topic)}`} className="mono">
        {c.row.original.topic}
      </Link>
    ),
  },
  { id: 'partition', header: 'Partition', accessorFn: (p) => p.partition, meta: { numeric: true } },
  { id: 'committed', header: 'Committed', accessorFn: (p) => p.committed ?? -1, meta: { numeric: true }, cell: (c) => fmtInt(c.row.original.committed) },
  { id: 'high', header: 'High watermark', accessorFn: (p) => p.high ?? -1, meta: { numeric: true }, cell: (c) => fmtInt(c.row.original.high) },
  {
    id: 'lag',
    header: 'Lag',
    accessorFn: (p) => p.lag ?? -1,
    meta: { numeric: true },
    cell: (c) => <span className={c.row.original.lag ? 'lag-positive' : undefined}>{fmtInt(c.row.original.lag)}</span>,
  },
  { id: 'member', header: 'Member', accessorFn: (p) => p.member ?? '', meta: { mono: true }, cell: (c) => c.row.original.member ?? '—' },
];

export function GroupPage() {
  const group = useParams().group ?? '';
  const { data, error, loading } = useApi<GroupDetail>(`/api/groups/${seg(group)}`, 5_000);
  const chart = useMemo(() => {
    const h = data?.history ?? [];
    return { x: h.map((p) => Date.parse(p.at)), y: h.map((p) => p.lag) };
  }, [data]);

  return (
    <Page
      title={`Group ${group}`}
      heading={
        <>
          <Link to="/kafka/groups" className="crumb">
            Consumer groups
          </Link>{' '}
          / <span className="mono">{group}</span>
        </>
      }
      loaded={!loading}
    >
      <ErrorBox error={error} />
      {loading ? <Loading what="group" /> : null}
      {data ? (
        <>
          <div className="summary-line">
            <StateBadge state={data.state} />
            <span>protocol {data.protocolType || '—'}</span>
            <span>{fmtInt(data.members.length)} members</span>
            <span>
              total lag <strong>{fmtInt(data.totalLag)}</strong>
            </span>
            <span className="muted small">refreshed every 5 s</span>
          </div>
          <Section title="Lag over time">
            {chart.x.length > 0 ? (
              <ChartView kind="line" timeX x={chart.x} series={[{ label: 'total lag', data: chart.y }]} testId="lag-chart" height={240} yTitle="messages" integerY />
            ) : (
              <div data-testid="lag-chart" className="muted">
                No history yet (sampled every 5 s).
              </div>
            )}
          </Section>
          <Section title="Lag per partition">
            <DataTable data={data.partitions} columns={columns} getRowId={(p) => `${p.topic}:${p.partition}`} testId="lag-table" />
          </Section>
          <Section title="Members">
            {data.members.length === 0 ? (
              <p className="muted">No active members.</p>
            ) : (
              <table className="data compact">
                <thead>
                  <tr>
                    <th>member</th>
                    <th>client</th>
                    <th>host</th>
                  </tr>
                </thead>
                <tbody>
                  {data.members.map((m) => (
                    <tr key={m.memberId}>
                      <td className="mono">{m.memberId}</td>
                      <td className="mono">{m.clientId}</td>
                      <td className="mono">{m.host}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Section>
        </>
      ) : null}
    </Page>
  );
}

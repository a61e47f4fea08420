import { cellText } from '../format';

/** Rows of a store shown as a column/value table (one column per row). */
export function RowsTable({ rows, highlight }: { rows: Record<string, unknown>[]; highlight?: Set<string> }) {
  if (rows.length === 0) return <p className="muted">No row found.</p>;
  const columns: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  return (
    <div className="table-wrap">
      <table className="data compact kv">
        <thead>
          <tr>
            <th>column</th>
            {rows.map((_, i) => (
              <th key={i}>{rows.length > 1 ? `row ${i + 1}` : 'value'}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {columns.map((c) => (
            <tr key={c} className={highlight?.has(c) ? 'changed' : undefined}>
              <td className="mono">{c}</td>
              {rows.map((r, i) => (
                <td key={i} className={`mono ${r[c] === null || r[c] === undefined ? 'null' : ''}`}>
                  {c in r ? cellText(r[c]) : ''}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

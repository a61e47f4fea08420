import { useEffect, useMemo, useState } from 'react';
import type { SqlResult } from '../../../src/contract';
import { ChartView } from '../components/Chart';

type Column = SqlResult['columns'][number];

/** Nullable(LowCardinality(T)) → T */
export function baseType(type: string): string {
  let t = type.trim();
  for (;;) {
    const m = /^(Nullable|LowCardinality)\((.*)\)$/.exec(t);
    if (!m || m[2] === undefined) return t;
    t = m[2].trim();
  }
}

export function isNumericType(type: string): boolean {
  return /^(U?Int\d+|Float\d+|BFloat16|Decimal(\d+)?(\(.*\))?)$/.test(baseType(type));
}

export function isTimeType(type: string): boolean {
  return /^(Date|Date32|DateTime|DateTime64)(\(.*\))?$/.test(baseType(type));
}

/** ClickHouse JSON dates: '2025-01-02' or '2025-01-02 03:04:05[.123]' in the server's zone; read as local time. */
function toMs(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  const s = String(v);
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00` : s.replace(' ', 'T'));
  return Number.isNaN(ms) ? null : ms;
}

function toNum(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

interface ChartChoice {
  kind: 'line' | 'bar';
  x: number;
  ys: number[];
}

function defaults(columns: Column[]): ChartChoice {
  const first = columns[0];
  const timeFirst = first !== undefined && isTimeType(first.type);
  const x = timeFirst ? 0 : Math.max(0, columns.findIndex((c) => !isNumericType(c.type)));
  const ys = columns
    .map((c, i) => ({ c, i }))
    .filter(({ c, i }) => i !== x && isNumericType(c.type))
    .slice(0, 5)
    .map(({ i }) => i);
  return { kind: timeFirst ? 'line' : 'bar', x, ys };
}

const MAX_POINTS = 2_000;

export function ResultChart({ result }: { result: SqlResult }) {
  const { columns, rows } = result;
  const [choice, setChoice] = useState<ChartChoice>(() => defaults(columns));
  useEffect(() => setChoice(defaults(columns)), [columns]);

  const numericCols = columns.map((c, i) => ({ c, i })).filter(({ c }) => isNumericType(c.type));
  const xCol = columns[choice.x];
  const timeX = choice.kind === 'line' && xCol !== undefined && isTimeType(xCol.type);

  const data = useMemo(() => {
    const slice = rows.slice(0, MAX_POINTS);
    const points = slice.map((r) => ({ x: timeX ? toMs(r[choice.x]) : String(r[choice.x] ?? 'NULL'), r }));
    const usable = timeX ? points.filter((p) => p.x !== null).sort((a, b) => Number(a.x) - Number(b.x)) : points;
    return {
      x: usable.map((p) => p.x as number | string),
      series: choice.ys.map((i) => ({ label: columns[i]?.name ?? `#${i}`, data: usable.map((p) => toNum(p.r[i])) })),
    };
  }, [rows, columns, choice, timeX]);

  if (columns.length === 0 || rows.length === 0) return null;

  const toggleY = (i: number): void =>
    setChoice((c) => ({ ...c, ys: c.ys.includes(i) ? c.ys.filter((y) => y !== i) : [...c.ys, i].sort((a, b) => a - b) }));

  return (
    <div className="result-chart">
      <div className="chart-controls">
        <label>
          <span>Chart</span>
          <select value={choice.kind} onChange={(e) => setChoice((c) => ({ ...c, kind: e.target.value === 'line' ? 'line' : 'bar' }))} data-testid="chart-type">
            <option value="line">line</option>
            <option value="bar">bar</option>
          </select>
        </label>
        <label>
          <span>X</span>
          <select value={choice.x} onChange={(e) => setChoice((c) => ({ ...c, x: Number(e.target.value), ys: c.ys.filter((y) => y !== Number(e.target.value)) }))} data-testid="chart-x">
            {columns.map((c, i) => (
              <option key={`${i}:${c.name}`} value={i}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <fieldset className="ys">
          <legend>Y</legend>
          {numericCols.length === 0 ? <span className="muted small">no numeric column</span> : null}
          {numericCols
            .filter(({ i }) => i !== choice.x)
            .map(({ c, i }) => (
              <label key={`${i}:${c.name}`} className="check">
                <input type="checkbox" checked={choice.ys.includes(i)} onChange={() => toggleY(i)} /> {c.name}
              </label>
            ))}
        </fieldset>
        {rows.length > MAX_POINTS ? <span className="muted small">first {MAX_POINTS} rows</span> : null}
      </div>
      {choice.ys.length > 0 ? (
        <ChartView kind={choice.kind} timeX={timeX} x={data.x} series={data.series} testId="sql-chart" height={300} />
      ) : (
        <p className="muted" data-testid="sql-chart">
          Choose a numeric Y column to draw a chart.
        </p>
      )}
    </div>
  );
}

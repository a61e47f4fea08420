import { useEffect, useRef } from 'react';
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import { fmtAxisTime, fmtCompact, fmtDate, fmtNum, fmtTime } from '../format';

Chart.register(BarController, BarElement, CategoryScale, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
Chart.defaults.color = '#475569';

const PALETTE = ['#2563eb', '#16a34a', '#ea580c', '#9333ea', '#0891b2', '#dc2626', '#ca8a04', '#4f46e5', '#db2777', '#65a30d'];

export interface Series {
  label: string;
  data: (number | null)[];
}

export interface ChartProps {
  kind: 'line' | 'bar';
  /** X values: epoch milliseconds when timeX, else category labels. */
  x: (number | string)[];
  timeX?: boolean;
  series: Series[];
  testId?: string;
  height?: number;
  yTitle?: string;
  /** Whole numbers only on the Y axis (counts, lag). */
  integerY?: boolean;
}

function buildConfig(p: ChartProps): ChartConfiguration<'line' | 'bar'> {
  const nums = p.x.filter((v): v is number => typeof v === 'number');
  const span = nums.length > 1 ? Math.max(...nums) - Math.min(...nums) : 0;
  // Dates (every value at local midnight) get date ticks whatever the span.
  const dateOnly = nums.length > 0 && nums.every((n) => {
    const d = new Date(n);
    return d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0 && d.getMilliseconds() === 0;
  });
  const datasets = p.series.map((s, i) => {
    const color = PALETTE[i % PALETTE.length] ?? '#2563eb';
    const data = p.timeX ? s.data.map((y, j) => ({ x: Number(p.x[j]), y })) : s.data;
    return {
      label: s.label,
      data: data as never,
      borderColor: color,
      backgroundColor: p.kind === 'bar' ? `${color}cc` : `${color}33`,
      borderWidth: p.kind === 'bar' ? 0 : 2,
      pointRadius: p.kind === 'line' && s.data.length > 60 ? 0 : 2,
      tension: 0.15,
      fill: p.kind === 'line' && p.series.length === 1,
      spanGaps: true,
    };
  });
  return {
    type: p.kind,
    data: { labels: p.timeX ? [] : p.x.map(String), datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: 'index', intersect: false },
      plugins: {
        legend: { display: p.series.length > 1, position: 'bottom' },
        tooltip: {
          callbacks: {
            title: (items) => {
              const it = items[0];
              if (!it) return '';
              if (!p.timeX) return String(it.label);
              return dateOnly ? fmtDate(it.parsed.x ?? 0) : fmtTime(it.parsed.x ?? 0);
            },
            label: (it) => `${it.dataset.label ?? ''}: ${fmtNum(it.parsed.y)}`,
          },
        },
      },
      scales: {
        x: p.timeX
          ? {
              type: 'linear',
              ticks: { callback: (v) => fmtAxisTime(Number(v), dateOnly ? Infinity : span), maxTicksLimit: 8 },
              grid: { color: '#e2e8f0' },
            }
          : { type: 'category', grid: { display: false }, ticks: { autoSkip: true, maxRotation: 45 } },
        y: {
          beginAtZero: true,
          ticks: { callback: (v) => fmtCompact(Number(v)), ...(p.integerY ? { precision: 0 } : {}) },
          grid: { color: '#e2e8f0' },
          title: p.yTitle ? { display: true, text: p.yTitle } : { display: false },
        },
      },
    },
  };
}

/** A Chart.js chart on a canvas; updated in place when its props change. */
export function ChartView(props: ChartProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const chartRef = useRef<Chart<'line' | 'bar'> | null>(null);
  const kindRef = useRef(props.kind);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const cfg = buildConfig(props);
    const existing = chartRef.current;
    if (existing && kindRef.current === props.kind) {
      existing.data = cfg.data;
      if (cfg.options) existing.options = cfg.options;
      existing.update('none');
      return;
    }
    existing?.destroy();
    kindRef.current = props.kind;
    chartRef.current = new Chart(canvas, cfg);
  });

  useEffect(
    () => () => {
      chartRef.current?.destroy();
      chartRef.current = null;
    },
    [],
  );

  return (
    <div className="chart" data-testid={props.testId} style={{ height: props.height ?? 280 }}>
      <canvas ref={canvasRef} role="img" aria-label="chart" />
    </div>
  );
}

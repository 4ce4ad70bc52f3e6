import { Empty, Typography } from 'antd';
import { useLayoutEffect, useMemo, useRef, useState, type MouseEvent } from 'react';

// A small dependency-free SVG line chart: a few series of (x, y) points, axes with
// "nice" ticks, a legend, and a hover read-out of the points nearest the pointer (every
// point also carries a <title>, so a plain hover shows its values too).

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  /** Shown in the legend and the hover read-out; also the `data-series` of its path. */
  name: string;
  points: ChartPoint[];
  /** A CSS colour; by default one of PALETTE by position. */
  color?: string;
  /** Draw only the points (no line between them). */
  dotsOnly?: boolean;
  /** Draw the line as steps (each value holds until the next x). */
  step?: boolean;
  dashed?: boolean;
}

/** Distinguishable colours (Ant Design's data-vis palette). */
export const PALETTE = [
  '#1677ff',
  '#52c41a',
  '#fa8c16',
  '#eb2f96',
  '#722ed1',
  '#13c2c2',
  '#faad14',
  '#f5222d',
  '#2f54eb',
  '#a0d911',
  '#8c8c8c',
  '#fa541c',
];

/** A number as short text: at most 6 significant digits, no trailing zeros. */
export function fmtNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '';
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-4)) return v.toExponential(3).replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(6)));
}

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) {
    const d = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= d;
    max += d;
  }
  const raw = (max - min) / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  const step = (norm >= 5 ? 10 : norm >= 2 ? 5 : norm >= 1 ? 2 : 1) * mag;
  const start = Math.ceil(min / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = start; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

interface Props {
  series: ChartSeries[];
  height?: number;
  xLabel?: string;
  yLabel?: string;
  /** Only whole numbers on the x axis (steps, sequences). */
  integerX?: boolean;
  /** What to say when no series has a point. */
  empty?: string;
  testId?: string;
  /** Show the legend (default: when there is more than one series). */
  legend?: boolean;
}

const MARGIN = { top: 12, right: 16, bottom: 38, left: 62 };

export default function LineChart({ series, height = 260, xLabel, yLabel, integerX, empty, testId, legend }: Props) {
  const boxRef = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(640);
  const [hover, setHover] = useState<number | null>(null);

  useLayoutEffect(() => {
    const el = boxRef.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(240, Math.floor(el.clientWidth)));
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const colored = useMemo(
    () =>
      series.map((s, i) => ({
        ...s,
        color: s.color ?? PALETTE[i % PALETTE.length],
        points: s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x),
      })),
    [series],
  );
  const all = colored.flatMap((s) => s.points);

  const showLegend = legend ?? colored.length > 1;
  const legendBox = showLegend ? (
    <div style={{ display: 'flex', flexWrap: 'wrap', gap: '4px 14px', marginTop: 6, fontSize: 12 }} data-testid={testId ? `${testId}-legend` : undefined}>
      {colored.map((s) => (
        <span key={s.name} style={{ display: 'inline-flex', alignItems: 'center', gap: 6 }}>
          <span
            style={{
              width: 14,
              height: s.dotsOnly ? 8 : 3,
              borderRadius: s.dotsOnly ? 4 : 1,
              background: s.color,
              display: 'inline-block',
            }}
          />
          {s.name}
        </span>
      ))}
    </div>
  ) : null;

  if (all.length === 0) {
    return (
      <div ref={boxRef} data-testid={testId} data-empty="true">
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={empty ?? 'No data yet'} />
      </div>
    );
  }

  let xMin = Math.min(...all.map((p) => p.x));
  let xMax = Math.max(...all.map((p) => p.x));
  let yMin = Math.min(...all.map((p) => p.y));
  let yMax = Math.max(...all.map((p) => p.y));
  if (xMin === xMax) {
    xMin -= integerX ? 1 : 0.5;
    xMax += integerX ? 1 : 0.5;
  }
  if (yMin === yMax) {
    const d = yMin === 0 ? 1 : Math.abs(yMin) * 0.1;
    yMin -= d;
    yMax += d;
  } else {
    const pad = (yMax - yMin) * 0.05;
    yMin -= pad;
    yMax += pad;
  }
  let xTicks = niceTicks(xMin, xMax, Math.max(2, Math.min(8, Math.floor(width / 90))));
  if (integerX) xTicks = xTicks.filter((t) => Number.isInteger(t));
  const yTicks = niceTicks(yMin, yMax, Math.max(2, Math.floor(height / 55)));

  const iw = width - MARGIN.left - MARGIN.right;
  const ih = height - MARGIN.top - MARGIN.bottom;
  const sx = (x: number) => MARGIN.left + ((x - xMin) / (xMax - xMin)) * iw;
  const sy = (y: number) => MARGIN.top + ih - ((y - yMin) / (yMax - yMin)) * ih;

  const pathOf = (s: (typeof colored)[number]) => {
    let d = '';
    s.points.forEach((p, i) => {
      if (i === 0) d += `M${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`;
      else if (s.step) d += `H${sx(p.x).toFixed(1)}V${sy(p.y).toFixed(1)}`;
      else d += `L${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`;
    });
    return d;
  };
  const dots = all.length <= 400;

  // The hover read-out: for the x nearest the pointer, each series' value there.
  const xs = [...new Set(all.map((p) => p.x))].sort((a, b) => a - b);
  const onMove = (e: MouseEvent<SVGSVGElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const px = e.clientX - rect.left;
    const py = e.clientY - rect.top;
    if (px < MARGIN.left - 4 || px > width - MARGIN.right + 4 || py < MARGIN.top || py > MARGIN.top + ih) {
      setHover(null);
      return;
    }
    let best = xs[0];
    for (const x of xs) if (Math.abs(sx(x) - px) < Math.abs(sx(best) - px)) best = x;
    setHover(best);
  };
  const readout =
    hover === null
      ? []
      : colored
          .map((s) => ({ s, p: s.points.find((p) => p.x === hover) }))
          .filter((r): r is { s: (typeof colored)[number]; p: ChartPoint } => r.p !== undefined);

  return (
    <div ref={boxRef} style={{ position: 'relative', width: '100%' }} data-testid={testId} data-series-count={colored.length}>
      <svg
        width={width}
        height={height}
        role="img"
        aria-label={[yLabel, xLabel].filter(Boolean).join(' over ') || 'chart'}
        style={{ display: 'block' }}
        onMouseMove={onMove}
        onMouseLeave={() => setHover(null)}
      >
        {/* grid and y ticks */}
        {yTicks.map((t) => (
          <g key={`y${t}`}>
            <line x1={MARGIN.left} x2={width - MARGIN.right} y1={sy(t)} y2={sy(t)} stroke="#f0f0f0" />
            <text x={MARGIN.left - 6} y={sy(t)} dy="0.32em" textAnchor="end" fontSize={11} fill="#8c8c8c">
              {fmtNumber(t)}
            </text>
          </g>
        ))}
        {xTicks.map((t) => (
          <g key={`x${t}`}>
            <line x1={sx(t)} x2={sx(t)} y1={MARGIN.top + ih} y2={MARGIN.top + ih + 4} stroke="#bfbfbf" />
            <text x={sx(t)} y={MARGIN.top + ih + 16} textAnchor="middle" fontSize={11} fill="#8c8c8c">
              {fmtNumber(t)}
            </text>
          </g>
        ))}
        {/* axes */}
        <line x1={MARGIN.left} x2={MARGIN.left} y1={MARGIN.top} y2={MARGIN.top + ih} stroke="#bfbfbf" />
        <line x1={MARGIN.left} x2={width - MARGIN.right} y1={MARGIN.top + ih} y2={MARGIN.top + ih} stroke="#bfbfbf" />
        {xLabel && (
          <text x={MARGIN.left + iw / 2} y={height - 4} textAnchor="middle" fontSize={12} fill="#595959">
            {xLabel}
          </text>
        )}
        {yLabel && (
          <text transform={`translate(12,${MARGIN.top + ih / 2}) rotate(-90)`} textAnchor="middle" fontSize={12} fill="#595959">
            {yLabel}
          </text>
        )}
        {hover !== null && <line x1={sx(hover)} x2={sx(hover)} y1={MARGIN.top} y2={MARGIN.top + ih} stroke="#d9d9d9" strokeDasharray="3 3" />}
        {/* the series */}
        {colored.map((s) => (
          <g key={s.name} className="chart-series" data-series={s.name} data-points={s.points.length}>
            {!s.dotsOnly && (
              <path
                d={pathOf(s)}
                fill="none"
                stroke={s.color}
                strokeWidth={2}
                strokeDasharray={s.dashed ? '5 4' : undefined}
                strokeLinejoin="round"
              >
                <title>{s.name}</title>
              </path>
            )}
            {(dots || s.dotsOnly) &&
              s.points.map((p, i) => (
                <circle key={i} cx={sx(p.x)} cy={sy(p.y)} r={s.dotsOnly ? 4 : 2.5} fill={s.color}>
                  <title>{`${s.name}: ${xLabel ?? 'x'} ${fmtNumber(p.x)}, ${yLabel ?? 'y'} ${fmtNumber(p.y)}`}</title>
                </circle>
              ))}
          </g>
        ))}
      </svg>
      {readout.length > 0 && (
        <div
          style={{
            position: 'absolute',
            top: MARGIN.top,
            left: Math.min(sx(hover!) + 10, width - 200),
            background: 'rgba(255,255,255,0.95)',
            border: '1px solid #f0f0f0',
            borderRadius: 4,
            padding: '4px 8px',
            fontSize: 12,
            pointerEvents: 'none',
            boxShadow: '0 2px 8px rgba(0,0,0,0.08)',
            maxWidth: 220,
          }}
        >
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {xLabel ?? 'x'} {fmtNumber(hover!)}
          </Typography.Text>
          {readout.map(({ s, p }) => (
            <div key={s.name} style={{ whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis' }}>
              <span style={{ color: s.color }}>●</span> {s.name}: {fmtNumber(p.y)}
            </div>
          ))}
        </div>
      )}
      {legendBox}
    </div>
  );
}

// Dependency edges routed around the nodes they would cross. Pure geometry (flow
// coordinates, y down), used by RoutedEdge; tested by the canvas browser tests.

import type { XY } from './dag';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** How far a routed edge keeps from a node it goes around. */
export const ROUTE_MARGIN = 16;
const MAX_DETOURS = 12;

/** Where segment a→b first enters `r` (0..1 along it), or null when it misses it. */
function entry(a: XY, b: XY, r: Rect): number | null {
  // Liang–Barsky clipping of the segment against the rectangle.
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  let t0 = 0;
  let t1 = 1;
  const clips: [number, number][] = [
    [-dx, a.x - r.x],
    [dx, r.x + r.width - a.x],
    [-dy, a.y - r.y],
    [dy, r.y + r.height - a.y],
  ];
  for (const [p, q] of clips) {
    if (p === 0) {
      if (q < 0) return null;
      continue;
    }
    const t = q / p;
    if (p < 0) {
      if (t > t1) return null;
      if (t > t0) t0 = t;
    } else {
      if (t < t0) return null;
      if (t < t1) t1 = t;
    }
  }
  return t1 - t0 > 1e-6 ? t0 : null;
}

function inflate(r: Rect, m: number): Rect {
  return { x: r.x - m, y: r.y - m, width: r.width + 2 * m, height: r.height + 2 * m };
}

/**
 * Waypoints from `from` to `to` (both included) that pass no rectangle of `obstacles`
 * closer than the margin: where the straight line would cross one, it goes down the
 * side of it nearer to the line instead, and each new leg is routed the same way.
 */
export function routeAround(from: XY, to: XY, obstacles: Rect[], margin = ROUTE_MARGIN): XY[] {
  const boxes = obstacles.map((r) => inflate(r, margin));
  let detours = 0;
  const leg = (a: XY, b: XY): XY[] => {
    let first: Rect | null = null;
    let firstT = Infinity;
    for (const box of boxes) {
      const t = entry(a, b, box);
      if (t !== null && t < firstT) {
        firstT = t;
        first = box;
      }
    }
    if (!first || detours >= MAX_DETOURS) return [a, b];
    detours++;
    // The side the line passes nearer to, at the box's middle height.
    const cy = first.y + first.height / 2;
    const lineX = b.y === a.y ? (a.x + b.x) / 2 : a.x + ((b.x - a.x) * (cy - a.y)) / (b.y - a.y);
    const left = first.x;
    const right = first.x + first.width;
    const side = Math.abs(lineX - left) <= Math.abs(right - lineX) ? left : right;
    const down = b.y >= a.y;
    const p1 = { x: side, y: down ? first.y : first.y + first.height };
    const p2 = { x: side, y: down ? first.y + first.height : first.y };
    const head = leg(a, p1);
    const tail = leg(p2, b);
    return [...head, ...tail];
  };
  return leg(from, to);
}

/** An SVG path through `points`, each inner corner rounded (radius at most `radius`). */
export function roundedPath(points: XY[], radius = 10): string {
  if (points.length === 0) return '';
  let d = `M ${points[0].x},${points[0].y}`;
  for (let i = 1; i < points.length - 1; i++) {
    const prev = points[i - 1];
    const p = points[i];
    const next = points[i + 1];
    const lenIn = Math.hypot(p.x - prev.x, p.y - prev.y);
    const lenOut = Math.hypot(next.x - p.x, next.y - p.y);
    const r = Math.min(radius, lenIn / 2, lenOut / 2);
    if (r <= 0.01) {
      d += ` L ${p.x},${p.y}`;
      continue;
    }
    const a = { x: p.x - ((p.x - prev.x) * r) / lenIn, y: p.y - ((p.y - prev.y) * r) / lenIn };
    const b = { x: p.x + ((next.x - p.x) * r) / lenOut, y: p.y + ((next.y - p.y) * r) / lenOut };
    d += ` L ${a.x},${a.y} Q ${p.x},${p.y} ${b.x},${b.y}`;
  }
  const last = points[points.length - 1];
  return `${d} L ${last.x},${last.y}`;
}

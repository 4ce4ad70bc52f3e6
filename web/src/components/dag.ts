// Layout of a pipeline's DAG on the canvas. Positions are the browser's business only:
// the server stores no coordinates. Nodes the user placed are kept in localStorage per
// pipeline (by task name); every other node gets an automatic layered layout by depth
// (a task sits one row below its deepest upstream task).

export interface XY {
  x: number;
  y: number;
}

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 64;
const COL = NODE_WIDTH + 40;
const ROW = NODE_HEIGHT + 70;

/**
 * Depth of every node: 0 for roots, else 1 + the deepest upstream. Cycles (which the
 * editor lets you draw, so that validation can name them) are cut at the edge that
 * closes them, taking edges in their order, so drawing a back edge moves nothing.
 */
export function depths(ids: string[], edges: { source: string; target: string }[]): Map<string, number> {
  const ups = new Map<string, string[]>(ids.map((id) => [id, []]));
  const downs = new Map<string, string[]>(ids.map((id) => [id, []]));
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n === to) return true;
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push(...(downs.get(n) ?? []));
    }
    return false;
  };
  for (const e of edges) {
    if (!ups.has(e.target) || !ups.has(e.source) || e.source === e.target) continue;
    if (reaches(e.target, e.source)) continue; // would close a cycle
    ups.get(e.target)!.push(e.source);
    downs.get(e.source)!.push(e.target);
  }
  const depth = new Map<string, number>();
  const visit = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    let d = 0;
    for (const u of ups.get(id) ?? []) d = Math.max(d, visit(u) + 1);
    depth.set(id, d);
    return d;
  };
  for (const id of ids) visit(id);
  return depth;
}

/** Layered positions for every node: rows by depth, nodes in a row in the given order, centred. */
export function layeredLayout(ids: string[], edges: { source: string; target: string }[]): Map<string, XY> {
  const depth = depths(ids, edges);
  const rows = new Map<number, string[]>();
  for (const id of ids) {
    const d = depth.get(id) ?? 0;
    rows.set(d, [...(rows.get(d) ?? []), id]);
  }
  const widest = Math.max(1, ...[...rows.values()].map((r) => r.length));
  const out = new Map<string, XY>();
  for (const [d, row] of rows) {
    const offset = ((widest - row.length) * COL) / 2;
    row.forEach((id, i) => out.set(id, { x: 40 + offset + i * COL, y: 40 + d * ROW }));
  }
  return out;
}

const KEY = 'quader.pipeline-layout.';

/** The stored positions of one pipeline's tasks (by task name); {} when none. */
export function loadPositions(pipeline: string | number): Record<string, XY> {
  try {
    const raw = localStorage.getItem(KEY + pipeline);
    if (!raw) return {};
    const v = JSON.parse(raw) as unknown;
    if (!v || typeof v !== 'object') return {};
    const out: Record<string, XY> = {};
    for (const [k, p] of Object.entries(v as Record<string, unknown>)) {
      const q = p as Partial<XY> | null;
      if (q && typeof q.x === 'number' && typeof q.y === 'number') out[k] = { x: q.x, y: q.y };
    }
    return out;
  } catch {
    return {};
  }
}

export function savePositions(pipeline: string | number, positions: Record<string, XY>): void {
  try {
    if (Object.keys(positions).length === 0) localStorage.removeItem(KEY + pipeline);
    else localStorage.setItem(KEY + pipeline, JSON.stringify(positions));
  } catch {
    /* storage full or blocked: positions are a nicety */
  }
}

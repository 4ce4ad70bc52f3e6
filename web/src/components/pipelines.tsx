import { Tag, Tooltip, Typography } from 'antd';
import type { ArgAttrs, ArgSchema, JobTemplate } from '../api';

// Shared pieces of the job template, pipeline, run and schedule pages: state tags,
// time/duration/size formatting, and the parameter-schema helpers.

const STATE_COLORS: Record<string, string> = {
  pending: 'default',
  running: 'processing',
  succeeded: 'success',
  failed: 'error',
  upstream_failed: 'error',
  stopped: 'warning',
  skipped: 'default',
  early_stopped: 'purple',
};

/** A run's or task's state as a coloured tag (pending grey, running blue, succeeded green, failed red, stopped orange). */
export function StateTag({ state, testId }: { state: string; testId?: string }) {
  return (
    <Tag
      color={STATE_COLORS[state] ?? 'default'}
      data-testid={testId}
      data-state={state}
      style={state === 'skipped' ? { opacity: 0.6 } : undefined}
    >
      {state}
    </Tag>
  );
}

const SKIP_REASONS: Record<string, string> = {
  max_active_runs: 'max_active_runs runs of the pipeline were active',
  depends_on_past: 'the previous scheduled run did not succeed',
  expired: 'the record was older than expired_limit when it could have launched',
  missed: 'a fire time that passed while the server was down',
};

/** A schedule record's state: created (green), comed (blue), "skipped: reason" (orange, with the reason). */
export function ScheduleStateTag({ state, testId }: { state: string; testId?: string }) {
  if (state.startsWith('skipped')) {
    const reason = state.replace(/^skipped:?\s*/, '');
    return (
      <Tooltip title={SKIP_REASONS[reason] ?? reason}>
        <span data-testid={testId} data-state={state}>
          <Tag color="orange">skipped</Tag>
          <Typography.Text type="secondary">{reason}</Typography.Text>
        </span>
      </Tooltip>
    );
  }
  const color = state === 'created' ? 'green' : state === 'comed' ? 'blue' : 'default';
  const help = state === 'created' ? 'the run was launched' : state === 'comed' ? 'produced, waiting to launch' : '';
  return (
    <Tooltip title={help}>
      <Tag color={color} data-testid={testId} data-state={state}>
        {state}
      </Tag>
    </Tooltip>
  );
}

/** A word of a command line as a shell would need it (quoted when it has spaces or specials). */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** "2026-11-29 10:00:05" in the browser's time zone; unknown formats pass through. */
export function fmtTimeSec(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** "850 ms", "12s", "3m 05s", "2h 01m". */
export function fmtMillis(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${String(h % 24).padStart(2, '0')}h`;
}

/** The time between two timestamps, or from `start` until now when `end` is not there yet. */
export function duration(start: string | null | undefined, end: string | null | undefined, now = Date.now()): string {
  if (!start) return '';
  const a = new Date(start).getTime();
  const b = end ? new Date(end).getTime() : now;
  if (Number.isNaN(a) || Number.isNaN(b)) return '';
  return fmtMillis(b - a);
}

/** Bytes as "52.4 MB" (powers of 1024, shown with binary units). */
export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** A duration in seconds as the short text the documents use ("90" → "90s", 600 → "10m"). */
export function fmtSeconds(v: number | string | null | undefined): string {
  if (v === null || v === undefined || v === '') return '';
  if (typeof v === 'string' && !/^\d+$/.test(v.trim())) return v;
  const s = Number(v);
  if (s === 0) return '0';
  if (s % 86400 === 0) return `${s / 86400}d`;
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

/** Options of a pipeline filter: "project/name" values, labelled by name (and project when not filtered to one). */
export function pipelineChoices(pipelines: { project: string; name: string }[], project: string, current: string) {
  const opts = pipelines.map((p) => ({
    value: `${p.project}/${p.name}`,
    label: project ? p.name : `${p.name} (${p.project})`,
    title: `${p.project}/${p.name}`,
  }));
  if (current) {
    const v = `${project || 'public'}/${current}`;
    if (!opts.some((o) => o.value === v)) opts.push({ value: v, label: current, title: v });
  }
  return opts.sort((a, b) => a.value.localeCompare(b.value));
}

// ---------------------------------------------------------------------------
// Parameter schemas

export interface ArgEntry {
  group: string;
  name: string;
  attrs: ArgAttrs;
}

/** A template's `args` as an object (cube-studio keeps it as JSON text; that is accepted too). */
export function schemaOf(t: Pick<JobTemplate, 'args'> | null | undefined): ArgSchema {
  const a = t?.args;
  if (!a) return {};
  if (typeof a === 'string') {
    try {
      const v = JSON.parse(a) as unknown;
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as ArgSchema) : {};
    } catch {
      return {};
    }
  }
  return a;
}

/** Every parameter of a schema, in the server's order (groups, then names). */
export function schemaEntries(schema: ArgSchema): ArgEntry[] {
  const out: ArgEntry[] = [];
  for (const [group, params] of Object.entries(schema)) {
    if (!params || typeof params !== 'object') continue;
    for (const [name, attrs] of Object.entries(params)) out.push({ group, name, attrs: attrs ?? {} });
  }
  return out;
}

export function argType(a: ArgAttrs): string {
  return (a.type || 'str').toLowerCase();
}

/** Whether a value must be given: `require` is 1 unless a default exists. */
export function argRequired(a: ArgAttrs): boolean {
  const hasDefault = a.default !== undefined && a.default !== null && a.default !== '';
  if (a.require === undefined || a.require === null) return !hasDefault;
  return (a.require === 1 || a.require === true) && !hasDefault;
}

const isEmpty = (v: unknown) =>
  v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);

/** A stored value (or the default) as the generated form field holds it. */
export function argToField(a: ArgAttrs, v: unknown): unknown {
  const value = isEmpty(v) ? a.default : v;
  if (value === undefined || value === null) return undefined;
  const t = argType(a);
  switch (t) {
    case 'bool':
      return value === true || value === 1 || value === 'true' || value === '1';
    case 'dict':
    case 'json':
      if (typeof value === 'string') return value;
      return JSON.stringify(value, null, 2);
    case 'list':
      if (Array.isArray(value)) return value.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
      if (typeof value === 'string') return value.split(',').map((x) => x.trim()).filter(Boolean);
      return [String(value)];
    case 'multiple':
      if (Array.isArray(value)) return value;
      if (typeof value === 'string') return value.split(/[\s,;]+/).filter(Boolean);
      return [value];
    case 'int':
    case 'float':
      return value;
    default:
      return typeof value === 'string' ? value : JSON.stringify(value);
  }
}

/**
 * The form's values back to a task's `args`: empty fields are left out, dict/json text is
 * parsed (an error names the task and the parameter). Values for names the schema does
 * not know pass through unchanged (the server refuses them with its own message).
 */
export function fieldsToArgs(schema: ArgSchema, fields: Record<string, unknown>, task: string): Record<string, unknown> {
  const known = new Map(schemaEntries(schema).map((e) => [e.name, e.attrs]));
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(fields ?? {})) {
    const a = known.get(name);
    if (isEmpty(v)) continue;
    if (a && (argType(a) === 'dict' || argType(a) === 'json') && typeof v === 'string') {
      try {
        out[name] = JSON.parse(v);
      } catch (e) {
        // A {{variable}} is rendered at run time; keep such text as it is.
        if (v.includes('{{')) {
          out[name] = v;
          continue;
        }
        throw new Error(`tasks (${task}).args.${name}: not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
      }
      continue;
    }
    out[name] = v;
  }
  return out;
}

/** The task's stored `args` as the generated form's initial values (defaults filled in). */
export function argsToFields(schema: ArgSchema, args: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const entries = schemaEntries(schema);
  for (const e of entries) {
    const v = argToField(e.attrs, args?.[e.name]);
    if (v !== undefined) out[e.name] = v;
  }
  // Values the schema does not know stay, so that saving does not drop them silently.
  const names = new Set(entries.map((e) => e.name));
  for (const [k, v] of Object.entries(args ?? {})) if (!names.has(k)) out[k] = v;
  return out;
}

/**
 * Finds the template a task refers to: "project/name", or "name" in the pipeline's own
 * project first, then `public` (docs/pipelines.md).
 */
export function resolveTemplate(templates: JobTemplate[], ref: string, project: string): JobTemplate | undefined {
  if (ref.includes('/')) {
    const [p, n] = ref.split('/', 2);
    return templates.find((t) => t.project === p && t.name === n);
  }
  return templates.find((t) => t.project === project && t.name === ref) ?? templates.find((t) => t.project === 'public' && t.name === ref);
}

/** How a task of a pipeline in `project` names template `t`: its bare name unless that would find another one. */
export function templateRef(templates: JobTemplate[], t: JobTemplate, project: string): string {
  return resolveTemplate(templates, t.name, project)?.id === t.id ? t.name : `${t.project}/${t.name}`;
}

/** "K=V" lines from an object (or text as it is). */
export function envToText(env: Record<string, string> | string | null | undefined): string {
  if (!env) return '';
  if (typeof env === 'string') return env;
  return Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

/** "K=V" lines to an object; blank lines and `#` comments are skipped. Errors name `field`. */
export function textToEnv(text: string | undefined, field: string): Record<string, string> | undefined {
  if (!text || !text.trim()) return undefined;
  const out: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`${field}: line ${i + 1} is not KEY=VALUE: ${line}`);
    out[line.slice(0, eq).trim()] = line.slice(eq + 1);
  });
  return out;
}

/** "k=v,k2=v2" from a node selector object (or text as it is). */
export function selectorToText(sel: Record<string, string> | string | null | undefined): string {
  if (!sel) return '';
  if (typeof sel === 'string') return sel;
  return Object.entries(sel)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

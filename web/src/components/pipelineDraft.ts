// The pipeline editor's working copy of a pipeline, and its conversion to and from the
// `kind: Pipeline` document of docs/pipelines.md. Fields are kept as the form shows them
// (durations and env as text, args as the generated form's values) and turned back into
// the document only to validate or save, so half-typed values never get lost.

import type { JobTemplate, Pipeline, PipelineDoc, TaskDoc } from '../api';
import { argsToFields, envToText, fieldsToArgs, fmtSeconds, resolveTemplate, schemaOf, selectorToText, textToEnv } from './pipelines';

/** What "New pipeline" hands to the editor (as the navigation state of /pipelines/new). */
export interface NewPipelineState {
  name?: string;
  project?: string;
  description?: string;
}

export interface TaskDraft {
  name: string;
  label: string;
  template: string;
  /** The generated form's values (dict/json as text). */
  args: Record<string, unknown>;
  cpu: number | null;
  memory: string;
  gpu: number | null;
  timeout: string;
  retries: number | null;
  retry_backoff: string;
  node_selector: string;
  volume_mount: string;
  /** Data sets the task reads, "iris@2, digits" (docs/datasets.md). */
  datasets: string;
  env: string;
  working_dir: string;
  skip: boolean;
  /** Kept from the document as it was (the editor does not change it). */
  command?: string[] | string;
}

export interface SettingsDraft {
  name: string;
  project: string;
  description: string;
  global_env: string;
  parallelism: number | null;
  max_active_runs: number | null;
  depends_on_past: boolean;
  expired_limit: string;
  cron: string;
  timezone: string;
  start_time: string;
  catchup: string;
  enabled: boolean;
  webhook_url: string;
  webhook_on: string[];
}

export function newSettings(init: { name?: string; project?: string; description?: string }): SettingsDraft {
  return {
    name: init.name ?? '',
    project: init.project ?? 'public',
    description: init.description ?? '',
    global_env: '',
    parallelism: 4,
    max_active_runs: 1,
    depends_on_past: false,
    expired_limit: '',
    cron: '',
    timezone: 'UTC',
    start_time: '',
    catchup: 'latest',
    enabled: true,
    webhook_url: '',
    webhook_on: ['failed'],
  };
}

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

export function settingsFromPipeline(p: Pipeline): SettingsDraft {
  const s = p.schedule ?? null;
  let start = '';
  if (s?.start_time !== undefined && s?.start_time !== null && s.start_time !== '') {
    start = typeof s.start_time === 'number' ? new Date(s.start_time * 1000).toISOString().replace('.000Z', 'Z') : String(s.start_time);
  }
  return {
    name: p.name,
    project: p.project,
    description: p.description ?? '',
    global_env: envToText(p.global_env),
    parallelism: p.parallelism ?? 4,
    max_active_runs: p.max_active_runs ?? 1,
    depends_on_past: !!p.depends_on_past,
    expired_limit: p.expired_limit ? fmtSeconds(p.expired_limit) : '',
    cron: s?.cron ?? '',
    timezone: s?.timezone ?? 'UTC',
    start_time: start,
    catchup: s?.catchup ?? 'latest',
    enabled: s ? s.enabled !== false : true,
    webhook_url: p.webhook?.url ?? '',
    webhook_on: p.webhook?.on ?? ['failed'],
  };
}

export function taskFromDoc(t: TaskDoc, tpl: JobTemplate | undefined): TaskDraft {
  const r = t.resources ?? {};
  const num = (v: unknown) => (v === undefined || v === null || v === '' ? null : Number(v));
  return {
    name: t.name,
    label: t.label ?? '',
    template: t.template,
    args: tpl ? argsToFields(schemaOf(tpl), t.args) : { ...(t.args ?? {}) },
    cpu: num(r.cpu) || null,
    memory: r.memory ? str(r.memory) : '',
    gpu: num(r.gpu) || null,
    timeout: t.timeout ? fmtSeconds(t.timeout) : '',
    retries: t.retries ? Number(t.retries) : null,
    retry_backoff: t.retry_backoff !== undefined && t.retry_backoff !== null ? fmtSeconds(t.retry_backoff) : '',
    node_selector: selectorToText(t.node_selector),
    volume_mount: t.volume_mount ?? '',
    datasets: Array.isArray(t.datasets) ? t.datasets.join(', ') : (t.datasets ?? ''),
    env: envToText(t.env),
    working_dir: t.working_dir ?? '',
    skip: !!t.skip,
    command: t.command && (typeof t.command === 'string' ? t.command : t.command.length > 0) ? t.command : undefined,
  };
}

/** A fresh task made from a template: its parameters' defaults, everything else the template's. */
export function taskFromTemplate(name: string, ref: string, tpl: JobTemplate): TaskDraft {
  return taskFromDoc({ name, template: ref }, tpl);
}

/** A unique task name: `base`, else `base-2`, `base-3`, … */
export function uniqueName(base: string, taken: Iterable<string>): string {
  const set = new Set(taken);
  if (!set.has(base)) return base;
  for (let i = 2; ; i++) if (!set.has(`${base}-${i}`)) return `${base}-${i}`;
}

/** "600" → 600; "10m" stays text (the server parses durations). */
function duration(v: string): number | string {
  const t = v.trim();
  return /^\d+$/.test(t) ? Number(t) : t;
}

/**
 * The document for validate/save. `deps` gives each task's upstream task names. Throws
 * an Error naming the field for what cannot be turned into a document at all (a
 * dict/json parameter that is not JSON, an env line without "=").
 */
export function buildDoc(
  s: SettingsDraft,
  tasks: { task: TaskDraft; deps: string[] }[],
  templates: JobTemplate[],
): PipelineDoc {
  const doc: PipelineDoc = { name: s.name.trim(), project: s.project, tasks: [] };
  if (s.description.trim()) doc.description = s.description;
  const genv = textToEnv(s.global_env, 'global_env');
  if (genv) doc.global_env = genv;
  if (s.parallelism !== null) doc.parallelism = s.parallelism;
  if (s.max_active_runs !== null) doc.max_active_runs = s.max_active_runs;
  doc.depends_on_past = s.depends_on_past;
  if (s.expired_limit.trim()) doc.expired_limit = duration(s.expired_limit);
  if (s.cron.trim()) {
    doc.schedule = {
      cron: s.cron.trim(),
      timezone: s.timezone.trim() || 'UTC',
      catchup: s.catchup || 'latest',
      enabled: s.enabled,
    };
    if (s.start_time.trim()) doc.schedule.start_time = s.start_time.trim();
  }
  if (s.webhook_url.trim()) doc.webhook = { url: s.webhook_url.trim(), on: s.webhook_on };

  for (const { task: t, deps } of tasks) {
    const name = t.name.trim();
    const tpl = resolveTemplate(templates, t.template, s.project);
    const d: TaskDoc = { name, template: t.template };
    if (t.label.trim()) d.label = t.label;
    const args = fieldsToArgs(schemaOf(tpl), t.args, name);
    if (Object.keys(args).length > 0) d.args = args;
    if (deps.length > 0) d.depends_on = deps;
    const res: NonNullable<TaskDoc['resources']> = {};
    if (t.cpu !== null && t.cpu !== undefined) res.cpu = t.cpu;
    if (t.memory.trim()) res.memory = /^\d+$/.test(t.memory.trim()) ? Number(t.memory.trim()) : t.memory.trim();
    if (t.gpu !== null && t.gpu !== undefined) res.gpu = t.gpu;
    if (Object.keys(res).length > 0) d.resources = res;
    if (t.timeout.trim()) d.timeout = duration(t.timeout);
    if (t.retries !== null && t.retries !== undefined) d.retries = t.retries;
    if (t.retry_backoff.trim()) d.retry_backoff = duration(t.retry_backoff);
    if (t.node_selector.trim()) d.node_selector = t.node_selector.trim();
    if (t.volume_mount.trim()) d.volume_mount = t.volume_mount.trim();
    const datasets = (t.datasets ?? '').split(',').map((x) => x.trim()).filter(Boolean);
    if (datasets.length > 0) d.datasets = datasets;
    const env = textToEnv(t.env, `tasks (${name}).env`);
    if (env) d.env = env;
    if (t.working_dir.trim()) d.working_dir = t.working_dir.trim();
    if (t.command !== undefined) d.command = t.command;
    if (t.skip) d.skip = true;
    doc.tasks.push(d);
  }
  return doc;
}

// Thin client for the Quader REST API (docs/api.md). Every call sends the stored
// token as `Authorization: Bearer …`; a 401 from any call (other than the login
// itself) drops the token and hands control to the handler set by the AuthProvider,
// which sends the user to /login.

export const API_BASE = '/api/v1';
const TOKEN_KEY = 'quader.token';

export type Role = 'creator' | 'dev' | 'ops';
export const ROLES: Role[] = ['creator', 'dev', 'ops'];

export interface User {
  username: string;
  email: string;
  admin: boolean;
  active: boolean;
  created_at: string;
  updated_at: string;
}

export interface Project {
  name: string;
  description: string;
  expand: Record<string, unknown>;
  created_by: string;
  created_at: string;
  updated_at: string;
  role: Role | null;
}

export interface Member {
  username: string;
  role: Role;
  created_at: string;
}

export interface Me {
  user: User;
  projects: { name: string; role: Role }[];
}

export interface LoginResult {
  token: string;
  expires_at: string;
  user: User;
}

/** An image record (docs/api.md, "Images"). */
export type ImageSource = 'base' | 'registry' | 'build' | 'commit';
export interface Image {
  id: number;
  project: string;
  name: string;
  tag: string;
  ref: string;
  description: string;
  source: ImageSource | string;
  /** The name of the image build (in the same project) that made it. */
  build: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export type BuildState = 'pending' | 'running' | 'succeeded' | 'failed';
export const FINAL_BUILD_STATES: readonly string[] = ['succeeded', 'failed'];

export interface ImageBuild {
  id: number;
  project: string;
  name: string;
  image: string;
  from: string | null;
  dockerfile: string;
  commit: string | null;
  config: Record<string, unknown>;
  description: string;
  state: BuildState | string;
  reason: string;
  created_by: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface NewImageBuild {
  project?: string;
  name: string;
  image: string;
  from?: string;
  dockerfile?: string;
  commit?: string;
  config?: unknown;
  description?: string;
}

/** One parameter of a job template's schema (cube-studio's format; docs/pipelines.md). */
export interface ArgAttrs {
  type?: string;
  item_type?: string;
  label?: string;
  describe?: string;
  placeholder?: string;
  require?: number | boolean;
  choice?: unknown[];
  range?: string;
  default?: unknown;
  editable?: number | boolean;
  sub_args?: Record<string, ArgAttrs>;
}
/** `{group: {name: attributes}}`; groups are UI headings. */
export type ArgSchema = Record<string, Record<string, ArgAttrs>>;

export interface Resources {
  cpu?: number | string;
  /** "4G", "512M", or bytes. */
  memory?: number | string;
  /** A run's task shows its own resource overrides with the memory in bytes. */
  memory_bytes?: number;
  gpu?: number | string;
}

/** A job template (GET /templates/{id}). */
export interface JobTemplate {
  id: number;
  project: string;
  name: string;
  image: string;
  version: string;
  description: string;
  command: string[];
  working_dir: string;
  env: Record<string, string>;
  volume_mount: string;
  resources: Resources;
  files: Record<string, string>;
  /** Normally an object; cube-studio's templates may carry it as JSON text. */
  args: ArgSchema | string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/** A task of a pipeline document. */
export interface TaskDoc {
  name: string;
  label?: string;
  template: string;
  args?: Record<string, unknown>;
  depends_on?: string[];
  resources?: Resources;
  timeout?: number | string;
  retries?: number;
  retry_backoff?: number | string;
  node_selector?: string | Record<string, string>;
  volume_mount?: string;
  /** Data set versions mounted read-only at /datasets/NAME: ["iris@2", "digits"] (docs/datasets.md). */
  datasets?: string[] | string;
  env?: Record<string, string> | string;
  working_dir?: string;
  command?: string[] | string;
  skip?: boolean;
}

export interface ScheduleDoc {
  cron: string;
  timezone?: string;
  start_time?: string | number | null;
  catchup?: string;
  enabled?: boolean;
}

export interface WebhookDoc {
  url: string;
  on?: string[];
}

/** A `kind: Pipeline` document as sent to POST/PUT /pipelines and /pipelines/validate. */
export interface PipelineDoc {
  name: string;
  project?: string;
  description?: string;
  global_env?: Record<string, string> | string;
  parallelism?: number;
  max_active_runs?: number;
  depends_on_past?: boolean;
  expired_limit?: number | string;
  schedule?: ScheduleDoc | null;
  webhook?: WebhookDoc | null;
  tasks: TaskDoc[];
}

/** A saved pipeline: the document's fields plus the server's. */
export interface Pipeline extends PipelineDoc {
  id: number;
  project: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  next_fire: string | null;
  last_run: { id: number; state: string } | null;
}

export type RunState = 'pending' | 'running' | 'succeeded' | 'failed' | 'stopped';
export const FINAL_RUN_STATES: readonly string[] = ['succeeded', 'failed', 'stopped'];
export const FINAL_TASK_STATES: readonly string[] = ['succeeded', 'failed', 'stopped', 'skipped', 'upstream_failed'];

export interface TaskAttempt {
  attempt: number;
  state: string;
  exit_code: number | null;
  oom_killed?: boolean;
  reason: string;
  workload: string;
  node: string;
  peak_memory_bytes?: number;
  started_at: string | null;
  finished_at: string | null;
}

/** A task of a run: its "pod view". */
export interface TaskRun {
  name: string;
  label: string;
  template: string;
  depends_on: string[];
  state: string;
  attempt: number;
  max_attempts: number;
  reason: string;
  exit_code: number | null;
  oom_killed: boolean;
  runtime: string;
  workload: string;
  node: string;
  image: string;
  argv: string[];
  /** The task's own resource overrides (the template's apply to the rest). */
  resources?: Resources;
  /** Seconds; 0: no limit. */
  timeout?: number;
  ready_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  peak_memory_bytes: number;
  outputs: Record<string, unknown>;
  attempts?: TaskAttempt[];
}

export interface Run {
  id: number;
  project: string;
  pipeline: string;
  pipeline_id: number | null;
  run_key: string;
  state: RunState | string;
  reason: string;
  trigger: string;
  runner: string;
  creator?: string;
  stop_requested?: boolean;
  execution_date: string;
  schedule_id: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /**
   * GET /runs/{id}: every task with its attempts; of a run of more than 500 tasks, a
   * page of them (tasks_next_offset is then set, null on the last page).
   */
  tasks: TaskRun[];
  tasks_offset?: number;
  tasks_next_offset?: number | null;
  /** GET /runs (lists): tasks summarised as a count per state. */
  task_states?: Record<string, number>;
  task_count?: number;
}

export interface ScheduleRecord {
  id: number;
  project: string;
  pipeline: string;
  pipeline_id: number;
  execution_date: string;
  execution_date_local: string;
  timezone: string;
  state: string;
  run_id: number | null;
  run_state: string | null;
  created_at: string;
  /** How late the record was produced after its fire time. */
  fire_delay_ms?: number;
}

/** A `kind: Experiment` document (hyperparameter search) as sent to POST /experiments. */
export interface ExperimentDoc {
  name: string;
  project?: string;
  describe?: string;
  image?: string;
  /** A string is run by `sh -c`; a list is run as it is. Trial values are appended as `--name=value`. */
  command?: string | string[];
  working_dir?: string;
  files?: Record<string, string>;
  env?: Record<string, string>;
  resources?: Resources;
  volume_mount?: string;
  search_space: Record<string, unknown>;
  tuner?: string;
  tuner_args?: Record<string, unknown>;
  assessor?: string;
  assessor_args?: Record<string, unknown>;
  objective?: 'maximize' | 'minimize';
  max_trials?: number;
  parallelism?: number;
  /** Seconds, or "30m"/"1h"; 0 = none. */
  max_duration?: number | string;
  max_failed_trials?: number;
  trial_timeout?: number | string;
  seed?: number;
}

export type ExperimentState = 'pending' | 'running' | 'succeeded' | 'failed' | 'stopped';
export const FINAL_EXPERIMENT_STATES: readonly string[] = ['succeeded', 'failed', 'stopped'];
export type TrialState = 'pending' | 'running' | 'succeeded' | 'failed' | 'stopped' | 'early_stopped';
export const TRIAL_STATES: readonly TrialState[] = ['pending', 'running', 'succeeded', 'failed', 'stopped', 'early_stopped'];
export const FINAL_TRIAL_STATES: readonly string[] = ['succeeded', 'failed', 'stopped', 'early_stopped'];

export interface ExperimentBest {
  sequence: number;
  trial_id: string;
  value: number;
  parameters: Record<string, unknown>;
}

export interface Experiment {
  id: number;
  /** The experiment's key (NNI_EXP_ID of its trials). */
  key: string;
  name: string;
  project: string;
  describe: string;
  state: ExperimentState | string;
  reason: string;
  stop_requested?: boolean;
  tuner: string;
  assessor: string;
  objective: 'maximize' | 'minimize' | string;
  max_trials: number;
  parallelism: number;
  /** Seconds; 0: none. */
  max_duration: number;
  /** The normalized document. */
  spec: Partial<ExperimentDoc> & Record<string, unknown>;
  /** How many trials are in each state, and in all. */
  trials: Partial<Record<TrialState, number>> & { total: number };
  best: ExperimentBest | null;
  created_by: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface IntermediatePoint {
  step: number;
  value: number;
  at: string;
}

/** One entry of a task's or a trial's /outputs (GET .../artifacts). */
export interface Artifact {
  path: string;
  type: 'file' | 'directory' | 'link' | 'other';
  size?: number;
  modified_at: string;
}

export interface ArtifactList {
  items: Artifact[];
  truncated: boolean;
  total_bytes: number;
}

export interface Trial {
  id: number;
  sequence: number;
  trial_id: string;
  state: TrialState | string;
  reason: string;
  parameters: Record<string, unknown>;
  /** The final result, or null. */
  value: number | null;
  intermediate_count: number;
  latest: number | null;
  argv: string[];
  exit_code: number | null;
  workload: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** With ?intermediate=1 (and GET of one trial). */
  intermediate?: IntermediatePoint[];
}

/** The two service collections of the API (and the paths of their pages). */
export type ServiceCollection = 'services' | 'inference-services';
export const SERVICE_STATES: readonly string[] = ['pending', 'running', 'failed', 'stopped'];

/** One replica of a service (GET …/services/{id} `replica_states`). */
export interface ReplicaState {
  index: number;
  generation: number;
  /** starting, ready, … */
  state: string;
  workload: string;
  /** The port the replica listens on, on this machine. */
  port: number;
}

export interface ServiceEvent {
  at: string;
  /** replica-started, replica-ready, replica-failed, … */
  kind: string;
  message: string;
}

export interface ExternalPort {
  address: string;
  container_port: number;
  error?: string;
}

/** A `kind: Service` or `kind: InferenceService` document with the server's state (docs/services.md). */
export interface Service {
  id: number;
  kind: 'Service' | 'InferenceService' | string;
  project: string;
  name: string;
  description?: string;
  image: string;
  command: string[];
  working_dir?: string;
  env: Record<string, string>;
  ports: number[];
  health: string;
  host: string;
  replicas?: number;
  /** InferenceService fields. */
  service_type?: string;
  model_name?: string;
  model_version?: string;
  model_path?: string;
  min_replicas?: number;
  max_replicas?: number;
  hpa?: string;
  metrics?: string;
  canary?: string;
  shadow?: string;
  /** Server state. */
  generation: number;
  state: string;
  reason: string;
  url?: string;
  hosts?: string[];
  replica_states: ReplicaState[];
  /** Ports on SERVICE_EXTERNAL_IP (`$name-external`): "ip:port", with why it cannot listen. */
  external?: ExternalPort[];
  /** InferenceService: deploy stage (offline, debug, test, online) and the autoscaler's count. */
  model_status?: 'offline' | 'debug' | 'test' | 'online' | string;
  /** Deployed to debug with a shell: its replica waits idle (its command is not run). */
  debug_idle?: boolean;
  /** InferenceService: the model registry's version it serves, NAME@VERSION (docs/models.md). */
  model_ref?: string;
  autoscaled_replicas?: number;
  /** Only for one inference service: its last 10 deploys and clears, newest first. */
  deploy_history?: { at: string; message: string }[];
  /** Only for one service: its last 100 events, newest first. */
  events?: ServiceEvent[];
  created_by: string;
  created_at: string;
  updated_at: string;
  [field: string]: unknown;
}

/** The document fields the server keeps itself (left out of what is PUT back). */
export const SERVICE_SERVER_FIELDS = [
  'id',
  'kind',
  'generation',
  'state',
  'reason',
  'created_by',
  'created_at',
  'updated_at',
  'url',
  'hosts',
  'replica_states',
  'events',
  'external',
  'model_status',
  'debug_idle',
  'autoscaled_replicas',
  'deploy_history',
] as const;

/** What GET /{services|inference-services|notebooks}/{id}/manifests answers (`quader render`). */
export interface Manifests {
  /** The Kubernetes objects the kubernetes runtime applies for it. */
  manifests: Record<string, unknown>[];
  /** The same objects as multi-document YAML. */
  yaml: string;
}
/** The collections that have manifests. */
export type ManifestCollection = ServiceCollection | 'notebooks';

/** The two kinds of notebook server (/api/v1/notebooks). */
export type NotebookType = 'jupyter' | 'vscode';
export const NOTEBOOK_TYPES: readonly NotebookType[] = ['jupyter', 'vscode'];
/** The image a notebook runs when its `image` is empty. */
export const NOTEBOOK_DEFAULT_IMAGES: Record<NotebookType, string> = {
  jupyter: 'quader/notebook:1',
  vscode: 'quader/vscode:1',
};

/** What POST /notebooks (and PUT /notebooks/{id}) takes. */
export interface NotebookDoc {
  project: string;
  name: string;
  type: NotebookType | string;
  description?: string;
  /** Empty: the type's default image. */
  image?: string;
  resources?: Resources;
  env?: Record<string, string>;
  working_dir?: string;
  volume_mount?: string;
}

/** A notebook: its document plus the server's state. Personal: a user sees only their own (admins all). */
export interface Notebook extends NotebookDoc {
  id: number;
  kind: 'Notebook';
  description: string;
  image: string;
  resources: Resources;
  env: Record<string, string>;
  working_dir: string;
  volume_mount: string;
  desired: 'running' | 'stopped' | string;
  state: 'pending' | 'running' | 'failed' | 'stopped' | string;
  reason: string;
  generation: number;
  created_by: string;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  last_activity: string | null;
  /** The notebook's path on the gateway, e.g. "/notebook/public/nb1/". */
  path: string;
  /** The full URL on the gateway (null when the server has no gateway). */
  url: string | null;
  /** The server now running for it, when there is one. */
  server?: { workload: string; generation: number; ready: boolean; port?: number };
}

/** One object of a cube-studio import (POST /projects/{p}/import/cube-studio; docs/cube-studio.md). */
export type ImportOutcome = 'created' | 'updated' | 'unchanged' | 'refused';
export interface ImportResult {
  kind: string;
  /** Its name in the file (cube-studio's). */
  name: string;
  /** The Quader name it was imported as (absent when refused before conversion, or built in). */
  quader_name?: string;
  result: ImportOutcome | string;
  reason?: string;
}
export interface ImportResults {
  results: ImportResult[];
  counts: Partial<Record<ImportOutcome, number>>;
}

export interface List<T> {
  items: T[];
}

/** An error answered by the server (or a network failure, status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** The text to show the user for any thrown value: the server's `error.message` verbatim. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

export function getToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

let onUnauthorized: (() => void) | null = null;
export function setUnauthorizedHandler(fn: (() => void) | null): void {
  onUnauthorized = fn;
}

interface RequestOptions {
  /** Do not treat a 401 as "session over" (used by the login form: 401 = wrong password). */
  noAuthRedirect?: boolean;
  /** Send a string body as it is (JSON text read from a file), not JSON-encoded again. */
  rawBody?: boolean;
}

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  opts: RequestOptions = {},
): Promise<T> {
  const headers = authHeaders('application/json');
  let payload: string | undefined;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = opts.rawBody && typeof body === 'string' ? body : JSON.stringify(body);
  }

  let res: Response;
  try {
    res = await fetch(API_BASE + path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'network', `Cannot reach the server: ${errorText(e)}`);
  }

  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }

  if (!res.ok) throw failure(res, data, opts);
  return data as T;
}

/** The headers every call carries: the token, and the marker that makes cookie auth CSRF-safe. */
function authHeaders(accept: string): Record<string, string> {
  const headers: Record<string, string> = { Accept: accept, 'X-Requested-With': 'quader' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

/** The ApiError for a failed reply whose body is still unread (an error object, or anything). */
async function failedReply(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  return failure(res, data);
}

/** The ApiError for a failed reply (its parsed body in `data`); a 401 also ends the session. */
function failure(res: Response, data: unknown, opts: RequestOptions = {}): ApiError {
  const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
  const apiErr = new ApiError(
    res.status,
    err?.code ?? 'unknown',
    err?.message ?? `HTTP ${res.status} ${res.statusText}`.trim(),
  );
  if (res.status === 401 && !opts.noAuthRedirect) {
    setToken(null);
    onUnauthorized?.();
  }
  return apiErr;
}

/**
 * Reads a text resource as it grows (e.g. a build log with `?follow=1`): `onText` gets
 * each decoded piece as it arrives. Resolves when the server ends the response, rejects
 * with an ApiError when it refuses it, and stops quietly when `signal` aborts.
 */
export async function streamText(path: string, onText: (text: string) => void, signal: AbortSignal): Promise<void> {
  let res: Response;
  try {
    res = await fetch(API_BASE + path, {
      method: 'GET',
      headers: authHeaders('text/plain, application/json'),
      credentials: 'same-origin',
      cache: 'no-store',
      signal,
    });
  } catch (e) {
    if (signal.aborted) return;
    throw new ApiError(0, 'network', `Cannot reach the server: ${errorText(e)}`);
  }
  if (!res.ok) throw await failedReply(res);
  if (!res.body) {
    // No streaming support: take the whole text at once.
    onText(await res.text());
    return;
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      if (text) onText(text);
    }
    const rest = decoder.decode();
    if (rest) onText(rest);
  } catch (e) {
    if (signal.aborted) return;
    throw new ApiError(0, 'network', `The log stream broke off: ${errorText(e)}`);
  } finally {
    reader.releaseLock();
  }
}

/** A file as a Blob (an artifact for a preview or a download), with the caller's credentials. */
export async function fetchBlob(path: string): Promise<Blob> {
  let res: Response;
  try {
    res = await fetch(API_BASE + path, { method: 'GET', headers: authHeaders('*/*'), credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'network', `Cannot reach the server: ${errorText(e)}`);
  }
  if (!res.ok) throw await failedReply(res);
  return res.blob();
}

const enc = encodeURIComponent;

/** `?a=1&b=x` from the set (non-empty) fields of `q`, or "". */
function query(q: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** A model of the registry (docs/models.md). */
export interface Model {
  id: number;
  project: string;
  name: string;
  description: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  versions: number;
  latest_version: number | null;
  /** GET /models/{id} only: its versions, newest first. */
  version_list?: ModelVersion[];
  /** GET /models/{id} only: the inference services of its project that serve a version of it. */
  served_by?: { service: string; id: number; version: number; stage: string }[];
}

export type ModelStage = 'none' | 'staging' | 'production' | 'archived';

export interface ModelVersion {
  model: string;
  project: string;
  version: number;
  framework: string;
  files: { path: string; size: number; sha256: string }[];
  size_bytes: number;
  metrics: Record<string, number>;
  params: Record<string, string | number | boolean>;
  source: { run?: number; pipeline?: string; task?: string; attempt?: number; experiment?: number; experiment_name?: string; trial?: number; path?: string };
  stage: ModelStage;
  description: string;
  registered_by: string;
  registered_at: string;
}

/** A data set (docs/datasets.md): versions of files tasks read at /datasets/NAME. */
export interface Dataset {
  id: number;
  project: string;
  name: string;
  description: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  versions: number;
  latest_version: number | null;
  /** GET /datasets/{id} only: its versions, newest first, and the uploads waiting to be made one. */
  version_list?: DatasetVersion[];
  uploads?: DatasetUpload[];
}

export interface DatasetUpload {
  id: number;
  path: string;
  size: number;
  sha256: string;
  uploaded_by: string;
  uploaded_at: string;
}

export interface DatasetVersion {
  dataset: string;
  project: string;
  version: number;
  /** NAME@VERSION, as a task names it in `datasets:`. */
  ref: string;
  files: { path: string; size: number; sha256: string }[];
  file_count: number;
  size_bytes: number;
  source: { kind?: 'upload' | 'task' | 'volume'; run?: number; pipeline?: string; task?: string; attempt?: number; path?: string };
  description: string;
  created_by: string;
  created_at: string;
  /** GET .../versions/{v} only: what read it (lineage). */
  read_by?: { kind: string; id: number; detail: string; read_at: string }[];
}

/** A file's preview, computed by the server as the file streams (docs/datasets.md). */
export interface DatasetPreview {
  path: string;
  kind: 'table' | 'json' | 'jsonl' | 'text' | 'image' | 'binary';
  size: number;
  columns?: { name: string; type: string }[];
  rows?: unknown[];
  row_count?: number;
  value?: unknown;
  head?: string;
  truncated?: boolean;
  too_large?: boolean;
  too_deep?: boolean;
}

/**
 * Sends `file` as the body of POST `path` (streamed by the server into its store), reporting
 * the bytes sent to `onProgress`; XMLHttpRequest because fetch cannot report upload progress.
 */
export function uploadFile<T>(path: string, file: Blob, onProgress: (sent: number, total: number) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', API_BASE + path);
    for (const [k, v] of Object.entries(authHeaders('application/json'))) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.total || file.size);
    xhr.onerror = () => reject(new ApiError(0, 'network', 'The upload broke off'));
    xhr.onload = () => {
      let data: unknown = undefined;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        data = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(data as T);
      const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
      reject(new ApiError(xhr.status, err?.code ?? 'unknown', err?.message ?? `HTTP ${xhr.status}`));
    };
    xhr.send(file);
  });
}

export const api = {
  login: (username: string, password: string) =>
    request<LoginResult>('POST', '/login', { username, password }, { noAuthRedirect: true }),
  logout: () => request<Record<string, never>>('POST', '/logout', {}, { noAuthRedirect: true }),
  me: () => request<Me>('GET', '/me'),

  listUsers: () => request<List<User>>('GET', '/users'),
  createUser: (u: { username: string; password: string; email?: string; admin?: boolean }) =>
    request<User>('POST', '/users', u),
  updateUser: (name: string, u: { email?: string; password?: string; admin?: boolean; active?: boolean }) =>
    request<User>('PUT', `/users/${enc(name)}`, u),
  deleteUser: (name: string) => request<Record<string, never>>('DELETE', `/users/${enc(name)}`),

  listProjects: () => request<List<Project>>('GET', '/projects'),
  getProject: (name: string) => request<Project>('GET', `/projects/${enc(name)}`),
  createProject: (p: { name: string; description?: string; expand?: unknown }) =>
    request<Project>('POST', '/projects', p),
  updateProject: (name: string, p: { description?: string; expand?: unknown }) =>
    request<Project>('PUT', `/projects/${enc(name)}`, p),
  deleteProject: (name: string) => request<Record<string, never>>('DELETE', `/projects/${enc(name)}`),
  /** Imports one cube-studio export file (its JSON text, sent as it is) into the project. */
  importCubeStudio: (project: string, fileText: string) =>
    request<ImportResults>('POST', `/projects/${enc(project)}/import/cube-studio`, fileText, { rawBody: true }),

  listMembers: (project: string) => request<List<Member>>('GET', `/projects/${enc(project)}/members`),
  addMember: (project: string, username: string, role: Role) =>
    request<Member>('POST', `/projects/${enc(project)}/members`, { username, role }),
  setMemberRole: (project: string, username: string, role: Role) =>
    request<Member>('PUT', `/projects/${enc(project)}/members/${enc(username)}`, { role }),
  removeMember: (project: string, username: string) =>
    request<Record<string, never>>('DELETE', `/projects/${enc(project)}/members/${enc(username)}`),

  listModels: (project?: string) => request<{ items: Model[] }>('GET', `/models${query({ project })}`),
  getModel: (id: number) => request<Model>('GET', `/models/${id}`),
  deleteModel: (id: number) => request<Record<string, never>>('DELETE', `/models/${id}`),
  findModel: (project: string, name: string) => request<Model>('GET', `/models/${enc(name)}${query({ project })}`),
  createModel: (m: { project?: string; name: string; description?: string }) => request<Model>('POST', '/models', m),
  /** Registers the next version from a succeeded task's ({run, task}) or trial's ({experiment, trial}) outputs. */
  registerModelVersion: (
    id: number,
    body: { run?: number; task?: string; experiment?: number; trial?: number; path?: string; framework: string; description?: string },
  ) => request<ModelVersion>('POST', `/models/${id}/versions`, body),
  setModelStage: (id: number, version: number, stage: ModelStage) =>
    request<ModelVersion>('PUT', `/models/${id}/versions/${version}`, { stage }),
  /**
   * Serves a version: a new inference service, or (`service`) one of the project's switched to
   * it through the gray upgrade; deploying an earlier version is the rollback.
   */
  deployModelVersion: (id: number, version: number, service?: string) =>
    request<{ service: string; project: string; model_ref: string; result: string }>(
      'POST',
      `/models/${id}/versions/${version}/deploy`,
      service ? { service } : {},
    ),
  /** One file of a version (checked against its SHA-256 by the server before it is sent). */
  fetchModelFile: (id: number, version: number, path: string) =>
    fetchBlob(`/models/${id}/versions/${version}/file?path=${enc(path)}`),
  listDatasets: (project?: string) => request<{ items: Dataset[] }>('GET', `/datasets${query({ project })}`),
  getDataset: (id: number) => request<Dataset>('GET', `/datasets/${id}`),
  createDataset: (d: { project?: string; name: string; description?: string }) => request<Dataset>('POST', '/datasets', d),
  deleteDataset: (id: number) => request<Record<string, never>>('DELETE', `/datasets/${id}`),
  /** Uploads one file (`path`: where it goes in the version) to wait for the next version. */
  uploadDatasetFile: (id: number, path: string, file: Blob, onProgress: (sent: number, total: number) => void) =>
    uploadFile<DatasetUpload>(`/datasets/${id}/uploads?path=${enc(path)}`, file, onProgress),
  createDatasetVersion: (id: number, body: { uploads?: number[] | 'all'; run?: number; task?: string; path?: string; volume_path?: string; description?: string }) =>
    request<DatasetVersion>('POST', `/datasets/${id}/versions`, body),
  getDatasetVersion: (id: number, version: number) => request<DatasetVersion>('GET', `/datasets/${id}/versions/${version}`),
  deleteDatasetVersion: (id: number, version: number) => request<Record<string, never>>('DELETE', `/datasets/${id}/versions/${version}`),
  previewDatasetFile: (id: number, version: number, path: string) =>
    request<DatasetPreview>('GET', `/datasets/${id}/versions/${version}/preview?path=${enc(path)}`),
  fetchDatasetFile: (id: number, version: number, path: string) =>
    fetchBlob(`/datasets/${id}/versions/${version}/file?path=${enc(path)}`),
  listImages: (project?: string) =>
    request<List<Image>>('GET', project ? `/images?project=${enc(project)}` : '/images'),
  getImage: (id: number) => request<Image>('GET', `/images/${id}`),
  createImage: (i: { project?: string; ref: string; description?: string }) => request<Image>('POST', '/images', i),
  updateImage: (id: number, description: string) => request<Image>('PUT', `/images/${id}`, { description }),
  deleteImage: (id: number) => request<Record<string, never>>('DELETE', `/images/${id}`),

  listBuilds: (project?: string) =>
    request<List<ImageBuild>>('GET', project ? `/image-builds?project=${enc(project)}` : '/image-builds'),
  getBuild: (id: number | string) => request<ImageBuild>('GET', `/image-builds/${enc(String(id))}`),
  createBuild: (b: NewImageBuild) => request<ImageBuild>('POST', '/image-builds', b),
  deleteBuild: (id: number) => request<Record<string, never>>('DELETE', `/image-builds/${id}`),
  /** Streams the build log (`?follow=1`) until the build ends; see streamText. */
  followBuildLog: (id: number | string, onText: (text: string) => void, signal: AbortSignal) =>
    streamText(`/image-builds/${enc(String(id))}/logs?follow=1&timestamps=1`, onText, signal),

  listTemplates: (project?: string) =>
    request<List<JobTemplate>>('GET', project ? `/templates?project=${enc(project)}` : '/templates'),
  getTemplate: (id: number | string) => request<JobTemplate>('GET', `/templates/${enc(String(id))}`),
  deleteTemplate: (id: number) => request<Record<string, never>>('DELETE', `/templates/${id}`),
  /** A template document (validated by the server as by `quader apply`). */
  createTemplate: (doc: unknown) => request<JobTemplate>('POST', '/templates', doc),
  updateTemplate: (id: number, doc: unknown) => request<JobTemplate>('PUT', `/templates/${id}`, doc),

  listPipelines: (project?: string) =>
    request<List<Pipeline>>('GET', project ? `/pipelines?project=${enc(project)}` : '/pipelines'),
  getPipeline: (id: number | string) => request<Pipeline>('GET', `/pipelines/${enc(String(id))}`),
  createPipeline: (doc: PipelineDoc) => request<Pipeline>('POST', '/pipelines', doc),
  updatePipeline: (id: number, doc: PipelineDoc) => request<Pipeline>('PUT', `/pipelines/${id}`, doc),
  validatePipeline: (doc: PipelineDoc) => request<{ ok: boolean }>('POST', '/pipelines/validate', doc),
  deletePipeline: (id: number) => request<Record<string, never>>('DELETE', `/pipelines/${id}`),
  runPipeline: (id: number) => request<Run>('POST', `/pipelines/${id}/run`, {}),
  /** A debug run of one task of the saved pipeline, alone. */
  runTask: (id: number, task: string, idle = false) =>
    request<Run>('POST', `/pipelines/${id}/tasks/${enc(task)}/run`, idle ? { idle: true } : {}),

  listRuns: (q: { project?: string; pipeline?: string; state?: string; limit?: number } = {}) =>
    request<List<Run>>('GET', `/runs${query(q)}`),
  getRun: (id: number | string) => request<Run>('GET', `/runs/${enc(String(id))}`),
  /** A page of a big run's tasks (the run with tasks [offset, offset + limit)). */
  getRunPage: (id: number | string, offset: number, limit: number) =>
    request<Run>('GET', `/runs/${enc(String(id))}?tasks_offset=${offset}&tasks_limit=${limit}`),
  /** The run with one task of it (404 when it has no such task). */
  getRunTask: (id: number | string, task: string) =>
    request<Run>('GET', `/runs/${enc(String(id))}?task=${enc(task)}`),
  stopRun: (id: number) => request<Run>('POST', `/runs/${id}/stop`, {}),
  /** A new run of what `id` ran (its snapshot). */
  rerunRun: (id: number) => request<Run>('POST', `/runs/${id}/rerun`, {}),
  /** A new run of a failed or stopped run in which its succeeded tasks are carried over. */
  retryRun: (id: number) => request<Run>('POST', `/runs/${id}/retry`, {}),
  deleteRun: (id: number) => request<Record<string, never>>('DELETE', `/runs/${id}`),
  /** Streams one attempt of a task's log (`?follow=1`) until the attempt ends; see streamText. */
  followTaskLog: (run: number | string, task: string, attempt: number, onText: (text: string) => void, signal: AbortSignal) =>
    streamText(`/runs/${enc(String(run))}/tasks/${enc(task)}/logs?follow=1&attempt=${attempt}&timestamps=1`, onText, signal),

  /** Where a task's outputs are read: `${base}/artifacts`, `${base}/artifact?path=`. */
  taskArtifactsBase: (run: number | string, task: string) => `/runs/${enc(String(run))}/tasks/${enc(task)}`,
  trialArtifactsBase: (experiment: number | string, sequence: number) =>
    `/experiments/${enc(String(experiment))}/trials/${sequence}`,
  listArtifacts: (base: string) => request<ArtifactList>('GET', `${base}/artifacts`),
  fetchArtifact: (base: string, path: string) => fetchBlob(`${base}/artifact?path=${enc(path)}`),

  listSchedules: (q: { project?: string; pipeline?: string; limit?: number } = {}) =>
    request<List<ScheduleRecord>>('GET', `/schedules${query(q)}`),

  listExperiments: (project?: string) =>
    request<List<Experiment>>('GET', project ? `/experiments?project=${enc(project)}` : '/experiments'),
  getExperiment: (id: number | string) => request<Experiment>('GET', `/experiments/${enc(String(id))}`),
  createExperiment: (doc: ExperimentDoc) => request<Experiment>('POST', '/experiments', doc),
  stopExperiment: (id: number) => request<Experiment>('POST', `/experiments/${id}/stop`, {}),
  deleteExperiment: (id: number) => request<Record<string, never>>('DELETE', `/experiments/${id}`),
  /** The trials; with `intermediate` every trial carries its intermediate values. */
  listTrials: (id: number | string, intermediate = false) =>
    request<List<Trial>>('GET', `/experiments/${enc(String(id))}/trials${intermediate ? '?intermediate=1' : ''}`),
  getTrial: (id: number | string, sequence: number) => request<Trial>('GET', `/experiments/${enc(String(id))}/trials/${sequence}`),
  /** Streams a trial's log (`?follow=1`) until the trial ends; see streamText. */
  followTrialLog: (id: number | string, sequence: number, onText: (text: string) => void, signal: AbortSignal) =>
    streamText(`/experiments/${enc(String(id))}/trials/${sequence}/logs?follow=1&timestamps=1`, onText, signal),

  listServices: (coll: ServiceCollection, project?: string) =>
    request<List<Service>>('GET', project ? `/${coll}?project=${enc(project)}` : `/${coll}`),
  getService: (coll: ServiceCollection, id: number | string) => request<Service>('GET', `/${coll}/${enc(String(id))}`),
  /** A replica's log: followed while it runs, or (`previous`) the kept log of its last instance that ended. */
  followReplicaLog: (
    coll: ServiceCollection,
    id: number | string,
    replica: number,
    previous: boolean,
    onText: (text: string) => void,
    signal: AbortSignal,
  ) =>
    streamText(
      `/${coll}/${enc(String(id))}/logs?replica=${replica}${previous ? '&previous=1' : '&follow=1'}&timestamps=1`,
      onText,
      signal,
    ),
  createService: (coll: ServiceCollection, doc: Record<string, unknown>) => request<Service>('POST', `/${coll}`, doc),
  /** Replaces the document; the server rolls the replicas one by one. */
  updateService: (coll: ServiceCollection, id: number, doc: Record<string, unknown>) => request<Service>('PUT', `/${coll}/${id}`, doc),
  deleteService: (coll: ServiceCollection, id: number) => request<Record<string, never>>('DELETE', `/${coll}/${id}`),
  /** Inference services: deploy to debug, test or prod, or clear (offline). */
  /** `idle` (debug only): the replica waits idle for a terminal instead of running the command. */
  deployService: (id: number, stage: 'debug' | 'test' | 'prod' | 'clear', idle = false) =>
    request<Service>(
      'POST',
      stage === 'clear' ? `/inference-services/${id}/clear` : `/inference-services/${id}/deploy/${stage}`,
      idle ? { idle: true } : undefined,
    ),

  /** The Kubernetes manifests of a service, inference service or notebook; `namespace` empty: the server's. */
  getManifests: (coll: ManifestCollection, id: number, opts: { namespace?: string; istio?: boolean } = {}) =>
    request<Manifests>('GET', `/${coll}/${id}/manifests${query({ namespace: opts.namespace, istio: opts.istio ? 1 : undefined })}`),

  listNotebooks: (project?: string) =>
    request<List<Notebook>>('GET', project ? `/notebooks?project=${enc(project)}` : '/notebooks'),
  getNotebook: (id: number | string) => request<Notebook>('GET', `/notebooks/${enc(String(id))}`),
  createNotebook: (doc: NotebookDoc) => request<Notebook>('POST', '/notebooks', doc),
  /** Changes the document; the notebook's server restarts with it. */
  updateNotebook: (id: number, doc: NotebookDoc) => request<Notebook>('PUT', `/notebooks/${id}`, doc),
  deleteNotebook: (id: number) => request<Record<string, never>>('DELETE', `/notebooks/${id}`),
  /** reset: a fresh server (files stay); stop; start (a stopped one). */
  notebookAction: (id: number, action: 'reset' | 'stop' | 'start') =>
    request<Notebook>('POST', `/notebooks/${id}/${action}`, {}),
  /** Streams the notebook server's output (`?follow=1`) while it runs; see streamText. */
  followNotebookLog: (id: number, onText: (text: string) => void, signal: AbortSignal) =>
    streamText(`/notebooks/${id}/logs?follow=1`, onText, signal),
};

/** Formats a server timestamp (RFC 3339, UTC) for display; unknown formats pass through. */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

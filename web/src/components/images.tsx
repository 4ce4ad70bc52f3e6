import { Select, Tag } from 'antd';
import type { ImageBuild, Me } from '../api';

const STATE_COLORS: Record<string, string> = {
  pending: 'default',
  running: 'processing',
  succeeded: 'success',
  failed: 'error',
};

/** A build's state as a coloured tag: pending (grey), running (blue), succeeded (green), failed (red). */
export function BuildStateTag({ state, testId }: { state: ImageBuild['state']; testId?: string }) {
  return (
    <Tag color={STATE_COLORS[state] ?? 'default'} data-testid={testId} data-state={state}>
      {state}
    </Tag>
  );
}

const SOURCE_COLORS: Record<string, string> = { base: 'purple', registry: 'blue', build: 'green', commit: 'cyan' };

/** Where an image came from: base, registry, build or commit. */
export function SourceTag({ source }: { source: string }) {
  return <Tag color={SOURCE_COLORS[source] ?? 'default'}>{source}</Tag>;
}

/** The value the project filter uses for "every project of mine". */
export const ALL_PROJECTS = '';

/** Options for choosing one of the caller's projects (from GET /me). */
export function projectOptions(me: Me | null): { value: string; label: string; title: string }[] {
  return (me?.projects ?? []).map((p) => ({ value: p.name, label: p.name, title: p.name }));
}

/** The project a "new …" form starts with: the filtered one, else `public`, else the first. */
export function defaultProject(me: Me | null, filter: string): string | undefined {
  const names = (me?.projects ?? []).map((p) => p.name);
  if (filter && names.includes(filter)) return filter;
  if (names.includes('public')) return 'public';
  return names[0];
}

/** The project filter of the list pages (images, templates, pipelines, runs, schedules): "All projects" or one of the caller's projects. */
export function ProjectFilter(props: { me: Me | null; value: string; onChange: (v: string) => void; testId?: string }) {
  return (
    <Select
      data-testid={props.testId ?? 'images-project-filter'}
      aria-label="Project"
      value={props.value}
      onChange={props.onChange}
      style={{ minWidth: 200 }}
      options={[{ value: ALL_PROJECTS, label: 'All projects', title: 'All projects' }, ...projectOptions(props.me)]}
      showSearch
      optionFilterProp="label"
    />
  );
}

/** Parses the advanced config text of a build: empty means none; otherwise it must be a JSON object. */
export function parseBuildConfig(text: string | undefined): { value: Record<string, unknown> | undefined } | { error: string } {
  if (!text || text.trim() === '') return { value: undefined };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { error: `config is not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    return { error: 'config must be a JSON object, e.g. {"resource_memory": "8G", "resource_cpu": "4"}' };
  }
  return { value: v as Record<string, unknown> };
}

export const CONFIG_PLACEHOLDER =
  '{"volume_mount": "kubeflow-user-workspace(pvc):/mnt", "resource_memory": "8G", "resource_cpu": "4"}';

export const MONO = 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';

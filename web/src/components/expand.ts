/** Parses the text of an expand editor. Empty text means `{}`. */
export function parseExpand(text: string): { value: unknown } | { error: string } {
  if (text.trim() === '') return { value: {} };
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { error: `expand is not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
}

export function expandText(expand: unknown): string {
  if (expand === null || expand === undefined) return '{}';
  if (typeof expand === 'object' && Object.keys(expand as object).length === 0) return '{}';
  return JSON.stringify(expand, null, 2);
}

export const EXPAND_HELP =
  'A JSON object with the keys cluster, node_selector, volume_mount and SERVICE_EXTERNAL_IP, e.g. ' +
  '{"cluster": "dev", "volume_mount": "kubeflow-user-workspace(pvc):/mnt/;4G(memory):/dev/shm"}';

export const EXPAND_PLACEHOLDER = `{
  "cluster": "dev",
  "node_selector": "org=public",
  "volume_mount": "kubeflow-user-workspace(pvc):/mnt/;4G(memory):/dev/shm"
}`;

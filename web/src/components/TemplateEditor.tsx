import { Alert, Button, Modal, Space, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { api, errorText, type JobTemplate } from '../api';
import { MONO } from './images';

/** The fields of a template's document (what GET returns, less what the server sets). */
const SERVER_FIELDS = ['id', 'created_by', 'created_at', 'updated_at'];

/** A new template's document to start from: its parameter schema in cube-studio's form. */
function skeleton(project: string): Record<string, unknown> {
  return {
    kind: 'JobTemplate',
    name: 'my-template',
    project,
    image: 'quader/python:3.11',
    version: 'Release',
    description: 'What the task does',
    command: ['python3', '/template/main.py'],
    working_dir: '/mnt',
    env: {},
    resources: { cpu: 1, memory: '1G', gpu: 0 },
    files: { 'main.py': 'import sys\nprint("arguments:", sys.argv[1:])\n' },
    args: {
      Parameters: {
        '--message': { type: 'str', label: 'Message', describe: 'What to print', default: 'hello', require: 1 },
      },
    },
  };
}

/**
 * Creates or edits a job template as its JSON document, validated by the server exactly
 * as `quader apply` is (name, image, the parameter schema under `args`, resources,
 * mounts): its error names the field, and nothing is saved until it is valid.
 */
export function TemplateEditor(props: {
  open: boolean;
  template?: JobTemplate; // editing this one; none: a new template
  project: string;
  onClose: () => void;
  onSaved: (t: JobTemplate) => void;
}) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!props.open) return;
    const doc: Record<string, unknown> = props.template ? { kind: 'JobTemplate', ...props.template } : skeleton(props.project);
    for (const f of SERVER_FIELDS) delete doc[f];
    setText(JSON.stringify(doc, null, 2));
    setError(null);
  }, [props.open, props.template, props.project]);

  const save = async () => {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      setError(`not JSON: ${errorText(e)}`);
      return;
    }
    setBusy(true);
    try {
      const saved = props.template
        ? await api.updateTemplate(props.template.id, doc)
        : await api.createTemplate(doc);
      props.onSaved(saved);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={props.open}
      width={860}
      title={props.template ? `Edit job template ${props.template.project}/${props.template.name}` : 'New job template'}
      onCancel={props.onClose}
      destroyOnClose
      footer={
        <Space>
          <Button onClick={props.onClose} data-testid="template-editor-cancel">
            Cancel
          </Button>
          <Button type="primary" loading={busy} onClick={() => void save()} data-testid="template-editor-save">
            {props.template ? 'Save' : 'Create'}
          </Button>
        </Space>
      }
    >
      <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
        The template as JSON, the same document <Typography.Text code>quader apply</Typography.Text> takes. Its
        parameters are <Typography.Text code>args</Typography.Text>: groups of <Typography.Text code>--name</Typography.Text>{' '}
        with a <Typography.Text code>type</Typography.Text> (str, int, float, bool, enum, list, dict, text, json),{' '}
        <Typography.Text code>default</Typography.Text>, <Typography.Text code>require</Typography.Text>,{' '}
        <Typography.Text code>choice</Typography.Text>, as in cube-studio. The server checks all of it.
      </Typography.Paragraph>
      {error && <Alert type="error" showIcon role="alert" style={{ marginBottom: 8 }} message={error} data-testid="template-editor-error" />}
      <textarea
        data-testid="template-editor-text"
        aria-label="Job template document (JSON)"
        spellCheck={false}
        value={text}
        onChange={(e) => setText(e.target.value)}
        style={{ width: '100%', minHeight: 420, fontFamily: MONO, fontSize: 12.5, padding: 8, border: '1px solid #d9d9d9', borderRadius: 6 }}
      />
    </Modal>
  );
}

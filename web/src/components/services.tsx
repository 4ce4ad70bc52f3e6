import { Col, Form, Input, InputNumber, Row, Select, Tag, Typography } from 'antd';
import { useNavigate } from 'react-router';
import { api, SERVICE_SERVER_FIELDS, type Service, type ServiceCollection } from '../api';
import { useAuth } from '../auth';
import FormModal, { useSubmit } from './FormModal';
import { MONO, projectOptions } from './images';
import { parseCommand } from '../pages/ExperimentsPage';

/** What differs between the Services and the Inference services areas. */
export interface ServiceKindInfo {
  coll: ServiceCollection;
  kind: 'Service' | 'InferenceService';
  path: string;
  title: string;
  noun: string;
  Noun: string;
}

export const SERVICE_KINDS: Record<ServiceCollection, ServiceKindInfo> = {
  services: { coll: 'services', kind: 'Service', path: '/services', title: 'Services', noun: 'service', Noun: 'Service' },
  'inference-services': {
    coll: 'inference-services',
    kind: 'InferenceService',
    path: '/inference-services',
    title: 'Inference services',
    noun: 'inference service',
    Noun: 'Inference service',
  },
};

/** The inference service types the server accepts (serving/service_spec.h kServiceTypes). */
export const SERVICE_TYPES = ['serving', 'tfserving', 'torch-server', 'onnxruntime', 'triton-server', 'ml-server', 'vllm', 'ollama'];

/** The replicas a service asks for: `replicas`, or `min_replicas` for an inference service. */
export function desiredReplicas(s: Service): number {
  if (s.kind === 'InferenceService') {
    if (s.model_status === 'offline') return 0;
    if (s.model_status === 'debug') return 1;
    if (s.model_status === 'online' && s.autoscaled_replicas) return s.autoscaled_replicas;
    return Number(s.min_replicas ?? 1);
  }
  return Number(s.replicas ?? 1);
}

export function readyReplicas(s: Service): number {
  return (s.replica_states ?? []).filter((r) => r.state === 'ready').length;
}

const REPLICA_COLORS: Record<string, string> = {
  ready: 'success',
  starting: 'processing',
  running: 'processing',
  draining: 'warning',
  stopping: 'warning',
  stopped: 'default',
  failed: 'error',
};

export function ReplicaStateTag({ state, testId }: { state: string; testId?: string }) {
  return (
    <Tag color={REPLICA_COLORS[state] ?? 'default'} data-testid={testId} data-state={state}>
      {state}
    </Tag>
  );
}

/** An event kind as a tag: ready green, failed red, started blue, anything else grey. */
export function EventKindTag({ kind }: { kind: string }) {
  const color = /ready|running/.test(kind)
    ? 'green'
    : /fail|error/.test(kind)
      ? 'red'
      : /start|scal|upgrade|generation|deploy/.test(kind)
        ? 'blue'
        : /stop|remov|drain|clear|unready/.test(kind)
          ? 'orange'
          : 'default';
  return (
    <Tag color={color} data-kind={kind}>
      {kind}
    </Tag>
  );
}

/** The production URL as text with a copy button. */
export function ServiceUrl({ url, testId }: { url?: string; testId?: string }) {
  if (!url) return <Typography.Text type="secondary">—</Typography.Text>;
  return (
    <Typography.Text copyable={{ text: url }} style={{ fontFamily: MONO, fontSize: 12.5 }} data-testid={testId}>
      {url}
    </Typography.Text>
  );
}

interface FormValues {
  project: string;
  name?: string;
  description?: string;
  image: string;
  command?: string;
  ports?: string;
  env?: string;
  replicas?: number | null;
  min_replicas?: number | null;
  max_replicas?: number | null;
  health?: string;
  host?: string;
  service_type?: string;
  model_name?: string;
  model_version?: string;
  model_path?: string;
  canary?: string;
  shadow?: string;
  hpa?: string;
}

/** Ports as typed: "8080, 9090" goes as a list of numbers; anything else as the text, for the server to judge. */
export function parsePorts(text: string): number[] | string {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.every((p) => /^\d+$/.test(p))) return parts.map(Number);
  return text.trim();
}

/** KEY=VALUE lines as an object; blank lines are skipped; a line without "=" keeps the text for the server to judge. */
export function parseEnv(text: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return text;
    out[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return out;
}

function formValuesOf(s: Service): FormValues {
  const cmd = s.command ?? [];
  return {
    project: s.project,
    name: s.name,
    description: s.description ?? '',
    image: s.image,
    command: cmd.length ? JSON.stringify(cmd) : '',
    ports: (s.ports ?? []).join(', '),
    env: Object.entries(s.env ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    replicas: s.replicas ?? 1,
    min_replicas: s.min_replicas ?? 1,
    max_replicas: s.max_replicas ?? s.min_replicas ?? 1,
    health: s.health ?? '',
    host: s.host ?? '',
    service_type: s.service_type ?? 'serving',
    model_name: s.model_name ?? '',
    model_version: s.model_version ?? '',
    model_path: s.model_path ?? '',
    canary: s.canary ?? '',
    shadow: s.shadow ?? '',
    hpa: s.hpa ?? '',
  };
}

/**
 * The document the form describes. Editing starts from the service's own document (so the
 * fields the form does not show are kept) and sets, or removes when empty, each field.
 */
function buildDoc(info: ServiceKindInfo, v: FormValues, base?: Service): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  if (base) {
    for (const [k, val] of Object.entries(base)) {
      if (!(SERVICE_SERVER_FIELDS as readonly string[]).includes(k)) doc[k] = val;
    }
  }
  const set = (k: string, val: unknown, empty: boolean) => {
    if (empty) delete doc[k];
    else doc[k] = val;
  };
  const text = (k: keyof FormValues) => ((v[k] as string | undefined) ?? '').trim();
  doc.project = v.project;
  if (info.kind === 'Service') doc.name = base ? base.name : text('name');
  set('description', text('description'), !text('description'));
  doc.image = text('image');
  set('command', text('command') ? parseCommand(text('command')) : undefined, !text('command'));
  set('ports', text('ports') ? parsePorts(text('ports')) : undefined, !text('ports'));
  const env = (v.env ?? '').trim() ? parseEnv(v.env ?? '') : {};
  doc.env = env;
  set('health', text('health'), !text('health'));
  set('host', text('host'), !text('host'));
  if (info.kind === 'Service') {
    set('replicas', v.replicas, v.replicas === null || v.replicas === undefined);
  } else {
    doc.service_type = v.service_type || 'serving';
    set('model_name', text('model_name'), !text('model_name'));
    set('model_version', text('model_version'), !text('model_version'));
    set('model_path', text('model_path'), !text('model_path'));
    set('min_replicas', v.min_replicas, v.min_replicas === null || v.min_replicas === undefined);
    set('max_replicas', v.max_replicas, v.max_replicas === null || v.max_replicas === undefined);
    set('canary', text('canary'), !text('canary'));
    set('shadow', text('shadow'), !text('shadow'));
    set('hpa', text('hpa'), !text('hpa'));
    if (base) delete doc.name; // the server derives it from the model fields
  }
  return doc;
}

/**
 * "New service" / "Edit": project, name (Service only), image, command, ports, env,
 * replicas, health, host, and for an inference service its type, model, canary, shadow
 * and hpa. POSTs (or PUTs, for `editing`) the document; the server's error is shown as
 * it is. Test ids: the fields `service-form-<field>`; the dialog `new-service` or
 * `edit-service` (`…-submit`, `…-error`).
 */
export function ServiceFormModal(props: {
  info: ServiceKindInfo;
  open: boolean;
  initialProject?: string;
  editing?: Service;
  onClose: () => void;
  onSaved: (s: Service) => void;
}) {
  const { info, editing } = props;
  const { me } = useAuth();
  const navigate = useNavigate();
  const [form] = Form.useForm<FormValues>();
  const { error, setError, busy, run } = useSubmit();
  const inference = info.kind === 'InferenceService';

  const submit = async () => {
    let v: FormValues;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    const doc = buildDoc(info, v, editing);
    await run(async () => {
      if (editing) {
        const s = await api.updateService(info.coll, editing.id, doc);
        props.onSaved(s);
      } else {
        const s = await api.createService(info.coll, doc);
        props.onSaved(s);
        navigate(`${info.path}/${s.id}`);
      }
    });
  };

  const initial: FormValues = editing
    ? formValuesOf(editing)
    : {
        project: props.initialProject ?? 'public',
        image: 'quader/python:3.11',
        command: inference ? 'python3 /srv/predict.py' : 'python3 -m http.server $PORT',
        ports: '8080',
        env: '',
        replicas: 1,
        min_replicas: 1,
        max_replicas: 1,
        health: '',
        host: '',
        service_type: 'serving',
      };

  const mono = { fontFamily: MONO };
  const tid = (f: string) => `service-form-${f}`;

  return (
    <FormModal
      title={editing ? `Edit ${info.noun} ${editing.name}` : `New ${info.noun}`}
      open={props.open}
      okText={editing ? 'Save' : 'Create'}
      busy={busy}
      error={error}
      testId={editing ? 'edit-service' : 'new-service'}
      width={820}
      onOk={() => void submit()}
      onClose={props.onClose}
      clearError={() => setError(null)}
    >
      <Form<FormValues> form={form} layout="vertical" preserve={false} initialValues={initial}>
        <Row gutter={16}>
          <Col span={8}>
            <Form.Item label="Project" name="project" rules={[{ required: true, message: 'Choose a project' }]}>
              <Select data-testid={tid('project')} options={projectOptions(me)} showSearch optionFilterProp="label" disabled={!!editing} />
            </Form.Item>
          </Col>
          {!inference ? (
            <Col span={16}>
              <Form.Item
                label="Name"
                name="name"
                rules={[
                  { required: true, whitespace: true, message: 'Enter a name' },
                  { max: 54, message: 'At most 54 characters' },
                ]}
                extra={editing ? 'A service cannot be renamed.' : 'Lower-case letters, digits and "-"; its host is $name.<service domain>.'}
              >
                <Input data-testid={tid('name')} autoFocus={!editing} spellCheck={false} disabled={!!editing} placeholder="echo" />
              </Form.Item>
            </Col>
          ) : (
            <Col span={16}>
              <Form.Item label="Service type" name="service_type" rules={[{ required: true }]}>
                <Select data-testid={tid('service-type')} options={SERVICE_TYPES.map((t) => ({ value: t, label: t, title: t }))} />
              </Form.Item>
            </Col>
          )}
        </Row>
        {inference && (
          <Row gutter={16}>
            <Col span={8}>
              <Form.Item label="Model name" name="model_name" rules={[{ required: true, whitespace: true, message: 'Enter the model name' }]}>
                <Input data-testid={tid('model-name')} spellCheck={false} placeholder="iris" />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item label="Model version" name="model_version" rules={[{ required: true, whitespace: true, message: 'Enter the version' }]}>
                <Input data-testid={tid('model-version')} spellCheck={false} placeholder="v2024.01.1" />
              </Form.Item>
            </Col>
            <Col span={10}>
              <Form.Item label="Model path" name="model_path">
                <Input data-testid={tid('model-path')} spellCheck={false} placeholder="/mnt/admin/models/iris" />
              </Form.Item>
            </Col>
          </Row>
        )}
        <Form.Item label="Description" name="description">
          <Input data-testid={tid('description')} />
        </Form.Item>
        <Row gutter={16}>
          <Col span={10}>
            <Form.Item label="Image" name="image" rules={[{ required: true, whitespace: true, message: 'Enter the image' }]}>
              <Input data-testid={tid('image')} spellCheck={false} />
            </Form.Item>
          </Col>
          <Col span={14}>
            <Form.Item label="Ports" name="ports" extra="Comma-separated; the first is the one the gateway routes to. Locally $PORT is the first.">
              <Input data-testid={tid('ports')} spellCheck={false} style={mono} placeholder="8080" />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item label="Command" name="command" extra='Run by sh -c, or a JSON list such as ["python3", "app.py"]; empty: the image entrypoint.'>
          <Input.TextArea data-testid={tid('command')} autoSize={{ minRows: 1, maxRows: 8 }} spellCheck={false} style={mono} />
        </Form.Item>
        <Form.Item label="Environment" name="env" extra="KEY=VALUE, one a line">
          <Input.TextArea data-testid={tid('env')} autoSize={{ minRows: 2, maxRows: 8 }} spellCheck={false} style={mono} />
        </Form.Item>
        <Row gutter={16}>
          {!inference ? (
            <Col span={6}>
              <Form.Item label="Replicas" name="replicas">
                <InputNumber data-testid={tid('replicas')} min={0} max={100} precision={0} style={{ width: '100%' }} />
              </Form.Item>
            </Col>
          ) : (
            <>
              <Col span={4}>
                <Form.Item label="Min replicas" name="min_replicas">
                  <InputNumber data-testid={tid('min-replicas')} min={1} max={100} precision={0} style={{ width: '100%' }} />
                </Form.Item>
              </Col>
              <Col span={4}>
                <Form.Item label="Max replicas" name="max_replicas">
                  <InputNumber data-testid={tid('max-replicas')} min={1} max={100} precision={0} style={{ width: '100%' }} />
                </Form.Item>
              </Col>
            </>
          )}
          <Col span={inference ? 8 : 9}>
            <Form.Item label="Health" name="health" extra='"8080:/health" (HTTP GET), or empty: a TCP connect to the first port'>
              <Input data-testid={tid('health')} spellCheck={false} style={mono} />
            </Form.Item>
          </Col>
          <Col span={inference ? 8 : 9}>
            <Form.Item label="Host" name="host" extra="Empty: $name.<service domain>; a custom host must end with that domain">
              <Input data-testid={tid('host')} spellCheck={false} style={mono} />
            </Form.Item>
          </Col>
        </Row>
        {inference && (
          <Row gutter={16}>
            <Col span={8}>
              <Form.Item label="Canary" name="canary" extra='"serving-iris-2024012:20%" — a share of requests to other services'>
                <Input data-testid={tid('canary')} spellCheck={false} style={mono} />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item label="Shadow" name="shadow" extra='"serving-iris-2024013:100%" — mirrored copies, answers dropped'>
                <Input data-testid={tid('shadow')} spellCheck={false} style={mono} />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item label="HPA" name="hpa" extra='Autoscaling targets, e.g. "cpu:50%,mem:50%"'>
                <Input data-testid={tid('hpa')} spellCheck={false} style={mono} />
              </Form.Item>
            </Col>
          </Row>
        )}
      </Form>
    </FormModal>
  );
}

const STAGE_COLORS: Record<string, string> = { online: 'green', test: 'blue', debug: 'purple', offline: 'default' };

/** An inference service's model status: offline, debug, test or online. */
export function ModelStatusTag({ status, testId }: { status?: string; testId?: string }) {
  if (!status) return null;
  return (
    <Tag color={STAGE_COLORS[status] ?? 'default'} data-testid={testId} data-status={status}>
      {status}
    </Tag>
  );
}

import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Form,
  Input,
  InputNumber,
  Popconfirm,
  Radio,
  Row,
  Select,
  Space,
  Table,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import {
  CodeOutlined,
  DeleteOutlined,
  DeploymentUnitOutlined,
  ExportOutlined,
  FileTextOutlined,
  LoadingOutlined,
  PauseCircleOutlined,
  PlayCircleOutlined,
  PlusOutlined,
  ReloadOutlined,
  SyncOutlined,
} from '@ant-design/icons';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type HTMLAttributes, type ReactNode } from 'react';
import { useSearchParams } from 'react-router';
import {
  api,
  errorText,
  NOTEBOOK_DEFAULT_IMAGES,
  NOTEBOOK_TYPES,
  type Me,
  type Notebook,
  type NotebookDoc,
  type NotebookType,
  type Resources,
} from '../api';
import { useAuth } from '../auth';
import FormModal, { useSubmit } from '../components/FormModal';
import ManifestsDrawer from '../components/ManifestsDrawer';
import SideDrawer, { CODE_BLOCK_STYLE } from '../components/SideDrawer';
import { TerminalDrawer } from '../components/WorkloadTerminal';
import { ALL_PROJECTS, defaultProject, MONO, ProjectFilter, projectOptions } from '../components/images';
import { fmtTimeSec, StateTag, textToEnv } from '../components/pipelines';

const MAX_LOG_CHARS = 4 * 1024 * 1024;
/** The longest notebook name the server takes (a DNS label starting with a letter). */
const MAX_NAME = 54;

const none = <Typography.Text type="secondary">—</Typography.Text>;

/**
 * The notebook's URL for this browser: the API's URL with its host name replaced by the
 * one this page was loaded from (the gateway is on the same host, another port), so that
 * the session cookie — which ignores ports — goes with it. Null when there is none.
 */
export function notebookHref(n: Pick<Notebook, 'url'>): string | null {
  if (!n.url) return null;
  try {
    const u = new URL(n.url);
    u.hostname = window.location.hostname;
    return u.href;
  } catch {
    return null;
  }
}

/** A name for a new notebook: "<username>-<4 hex digits>", made a valid name. */
export function suggestName(username: string | undefined): string {
  const hex = Array.from(crypto.getRandomValues(new Uint8Array(2)), (b) => b.toString(16).padStart(2, '0')).join('');
  let base = (username ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  if (!/^[a-z]/.test(base)) base = base ? `nb-${base}` : 'nb';
  return `${base.slice(0, MAX_NAME - 5).replace(/-$/, '')}-${hex}`;
}

const TYPE_COLORS: Record<string, string> = { jupyter: 'orange', vscode: 'blue' };

/** A notebook's type as a tag: jupyter (orange) or vscode (blue). */
export function NotebookTypeTag({ type, testId }: { type: string; testId?: string }) {
  return (
    <Tag color={TYPE_COLORS[type] ?? 'default'} data-testid={testId} data-type={type}>
      {type === 'vscode' ? 'VS Code' : type === 'jupyter' ? 'Jupyter' : type}
    </Tag>
  );
}

/**
 * The Notebooks area: the caller's notebooks (admins: everyone's) with type, state and
 * its reason, owner and last activity; "New notebook"; per notebook Open (on the gateway,
 * in a new tab, once running), Logs, Kubernetes (its manifests), Reset, Stop/Start and Delete. Re-read every 2 s while
 * a notebook is pending, every 15 s otherwise.
 */
export default function NotebooksPage() {
  const { me } = useAuth();
  const { message } = App.useApp();
  const [params, setParams] = useSearchParams();
  const project = params.get('project') ?? ALL_PROJECTS;
  const [items, setItems] = useState<Notebook[]>([]);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const [logsOf, setLogsOf] = useState<Notebook | null>(null);
  const [terminalOf, setTerminalOf] = useState<Notebook | null>(null);
  const [manifestsOf, setManifestsOf] = useState<Notebook | null>(null);
  const [acting, setActing] = useState<string | null>(null);

  const load = useCallback(
    async (quiet = false) => {
      if (!quiet) setLoading(true);
      try {
        const res = await api.listNotebooks(project || undefined);
        setItems(res.items ?? []);
        setLoadError(null);
      } catch (e) {
        if (!quiet) setItems([]);
        setLoadError(errorText(e));
      } finally {
        if (!quiet) setLoading(false);
      }
    },
    [project],
  );

  useEffect(() => {
    void load();
  }, [load]);

  // Every 2 s while a notebook is pending; otherwise every 15 s (idle stops, last activity).
  const pending = items.some((n) => n.state === 'pending');
  useEffect(() => {
    const t = setInterval(() => void load(true), pending ? 2000 : 15_000);
    return () => clearInterval(t);
  }, [pending, load]);

  const setProject = (p: string) => {
    const next = new URLSearchParams(params);
    if (p) next.set('project', p);
    else next.delete('project');
    setParams(next);
  };

  const act = async (n: Notebook, action: 'reset' | 'stop' | 'start') => {
    setActing(`${action}-${n.id}`);
    try {
      const updated = await api.notebookAction(n.id, action);
      setItems((list) => list.map((x) => (x.id === updated.id ? updated : x)));
      message.success(
        action === 'reset' ? `Notebook ${n.name} is restarting` : action === 'stop' ? `Notebook ${n.name} stopped` : `Notebook ${n.name} is starting`,
      );
    } catch (e) {
      message.error(errorText(e));
    } finally {
      setActing(null);
      void load(true);
    }
  };

  const remove = async (n: Notebook) => {
    try {
      await api.deleteNotebook(n.id);
      message.success(`Notebook ${n.name} deleted`);
      if (logsOf?.id === n.id) setLogsOf(null);
      if (manifestsOf?.id === n.id) setManifestsOf(null);
    } catch (e) {
      message.error(errorText(e));
    } finally {
      void load(true);
    }
  };

  return (
    <Card
      title={<Typography.Title level={4} style={{ margin: 0 }}>Notebooks</Typography.Title>}
      extra={
        <Space>
          <Typography.Text type="secondary">Project</Typography.Text>
          <ProjectFilter me={me} value={project} onChange={setProject} testId="notebooks-project-filter" />
          <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label="Reload notebooks" />
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} data-testid="new-notebook">
            New notebook
          </Button>
        </Space>
      }
    >
      {loadError && <Alert type="error" showIcon role="alert" message={loadError} style={{ marginBottom: 16 }} data-testid="notebooks-error" />}
      <Table<Notebook>
        data-testid="notebooks-table"
        rowKey="id"
        loading={loading}
        dataSource={items}
        pagination={{ hideOnSinglePage: true, pageSize: 50 }}
        onRow={(n) =>
          ({ 'data-testid': `notebook-row-${n.name}`, 'data-project': n.project, 'data-state': n.state }) as HTMLAttributes<HTMLElement>
        }
        columns={[
          {
            title: 'Name',
            dataIndex: 'name',
            render: (name: string, n) => (
              <Space direction="vertical" size={0}>
                <span style={{ fontWeight: 500 }}>{name}</span>
                {n.description && (
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {n.description}
                  </Typography.Text>
                )}
              </Space>
            ),
          },
          { title: 'Project', dataIndex: 'project' },
          { title: 'Type', dataIndex: 'type', render: (t: string, n) => <NotebookTypeTag type={t} testId={`notebook-type-${n.name}`} /> },
          {
            title: 'State',
            dataIndex: 'state',
            render: (st: string, n) => (
              <Space direction="vertical" size={0}>
                <Tooltip title={n.reason || undefined}>
                  <span>
                    <StateTag state={st} testId={`notebook-state-${n.name}`} />
                  </span>
                </Tooltip>
                {n.reason && (
                  <Typography.Text type="secondary" style={{ fontSize: 12, maxWidth: 280, display: 'inline-block' }} data-testid={`notebook-reason-${n.name}`}>
                    {n.reason}
                  </Typography.Text>
                )}
              </Space>
            ),
          },
          { title: 'Created by', dataIndex: 'created_by' },
          {
            title: 'Last activity',
            dataIndex: 'last_activity',
            render: (t: string | null, n) => (
              <Tooltip title={n.started_at ? `server started ${fmtTimeSec(n.started_at)}` : undefined}>
                <span data-testid={`notebook-activity-${n.name}`}>{t ? fmtTimeSec(t) : none}</span>
              </Tooltip>
            ),
          },
          {
            title: '',
            key: 'actions',
            render: (_: unknown, n) => {
              const href = notebookHref(n);
              // The gateway lets only the owner in (an admin sees everyone's notebooks but opens only their own).
              const mine = n.created_by === me?.user.username;
              const openable = mine && n.state === 'running' && href !== null;
              const stopped = n.desired === 'stopped';
              return (
                <Space size={4} wrap>
                  <Tooltip
                    title={!mine ? `Only ${n.created_by} can open it` : openable ? `Open ${href}` : 'Opens once the notebook is running'}
                  >
                    <Button
                      size="small"
                      type="primary"
                      icon={<ExportOutlined />}
                      href={openable ? href : undefined}
                      target="_blank"
                      rel="noopener noreferrer"
                      disabled={!openable}
                      data-testid={`notebook-open-${n.name}`}
                    >
                      Open
                    </Button>
                  </Tooltip>
                  <Button size="small" icon={<FileTextOutlined />} onClick={() => setLogsOf(n)} data-testid={`notebook-logs-${n.name}`}>
                    Logs
                  </Button>
                  <Tooltip title={!mine ? `Only ${n.created_by} can open a terminal in it` : n.state === 'running' ? 'A shell in the notebook' : 'Once the notebook is running'}>
                    <Button
                      size="small"
                      icon={<CodeOutlined />}
                      disabled={!mine || n.state !== 'running'}
                      onClick={() => setTerminalOf(n)}
                      data-testid={`notebook-terminal-${n.name}`}
                    >
                      Terminal
                    </Button>
                  </Tooltip>
                  <Tooltip title="The objects the kubernetes runtime applies for it">
                    <Button
                      size="small"
                      icon={<DeploymentUnitOutlined />}
                      onClick={() => setManifestsOf(n)}
                      data-testid={`notebook-manifests-${n.name}`}
                    >
                      Kubernetes
                    </Button>
                  </Tooltip>
                  <Tooltip title="A fresh server; files stay">
                    <Button
                      size="small"
                      icon={<SyncOutlined />}
                      loading={acting === `reset-${n.id}`}
                      onClick={() => void act(n, 'reset')}
                      data-testid={`notebook-reset-${n.name}`}
                    >
                      Reset
                    </Button>
                  </Tooltip>
                  {stopped ? (
                    <Button
                      size="small"
                      icon={<PlayCircleOutlined />}
                      loading={acting === `start-${n.id}`}
                      onClick={() => void act(n, 'start')}
                      data-testid={`notebook-start-${n.name}`}
                    >
                      Start
                    </Button>
                  ) : (
                    <Button
                      size="small"
                      icon={<PauseCircleOutlined />}
                      loading={acting === `stop-${n.id}`}
                      onClick={() => void act(n, 'stop')}
                      data-testid={`notebook-stop-${n.name}`}
                    >
                      Stop
                    </Button>
                  )}
                  <Popconfirm
                    title={`Delete notebook ${n.name}?`}
                    description={`Its server is stopped; the files in /mnt/${n.created_by} stay.`}
                    okText="Delete"
                    okButtonProps={{ danger: true, 'data-testid': `notebook-delete-confirm-${n.name}` }}
                    onConfirm={() => remove(n)}
                  >
                    <Button size="small" danger icon={<DeleteOutlined />} aria-label={`Delete ${n.name}`} data-testid={`notebook-delete-${n.name}`} />
                  </Popconfirm>
                </Space>
              );
            },
          },
        ]}
      />
      <NotebookFormModal
        me={me}
        open={open}
        initialProject={defaultProject(me, project)}
        onClose={() => setOpen(false)}
        onSaved={(n) => {
          setOpen(false);
          message.success(`Notebook ${n.name} created`);
          void load(true);
        }}
      />
      <SideDrawer
        title={logsOf ? `Log of ${logsOf.project}/${logsOf.name}` : 'Log'}
        open={logsOf !== null}
        onClose={() => setLogsOf(null)}
        testId="notebook-log-drawer"
      >
        {logsOf && <NotebookLog notebook={items.find((x) => x.id === logsOf.id) ?? logsOf} />}
      </SideDrawer>
      <TerminalDrawer
        title={terminalOf ? `Terminal in ${terminalOf.project}/${terminalOf.name}` : 'Terminal'}
        path={terminalOf ? `/notebooks/${terminalOf.id}/terminal` : null}
        onClose={() => setTerminalOf(null)}
      />
      <ManifestsDrawer
        target={manifestsOf && { coll: 'notebooks', id: manifestsOf.id, name: manifestsOf.name, project: manifestsOf.project }}
        onClose={() => setManifestsOf(null)}
      />
    </Card>
  );
}

interface FormValues {
  project: string;
  name: string;
  type: NotebookType;
  description?: string;
  image?: string;
  cpu?: number | null;
  memory?: string;
  gpu?: number | null;
  env?: string;
  working_dir?: string;
  volume_mount?: string;
}

/** The POST /notebooks body the form describes; empty fields are left to the server's defaults. */
function buildDoc(v: FormValues): NotebookDoc {
  const text = (k: keyof FormValues) => ((v[k] as string | undefined) ?? '').trim();
  const doc: NotebookDoc = { project: v.project, name: text('name'), type: v.type };
  if (text('description')) doc.description = text('description');
  if (text('image')) doc.image = text('image');
  const resources: Resources = {};
  if (v.cpu !== null && v.cpu !== undefined) resources.cpu = v.cpu;
  if (text('memory')) resources.memory = text('memory');
  if (v.gpu !== null && v.gpu !== undefined) resources.gpu = v.gpu;
  if (Object.keys(resources).length) doc.resources = resources;
  const env = textToEnv(v.env, 'env');
  if (env) doc.env = env;
  if (text('working_dir')) doc.working_dir = text('working_dir');
  if (text('volume_mount')) doc.volume_mount = text('volume_mount');
  return doc;
}

/**
 * "New notebook": project, name (suggested: "<username>-<4 hex>"), type, image (empty:
 * the type's default), description, CPU, memory, GPU, env (KEY=VALUE lines), working
 * directory and volume mount. The server's error is shown as it is. Test ids: the fields
 * `notebook-form-<field>`, `notebook-form-submit`, `notebook-form-error`.
 */
function NotebookFormModal(props: {
  me: Me | null;
  open: boolean;
  initialProject?: string;
  onClose: () => void;
  onSaved: (n: Notebook) => void;
}) {
  const [form] = Form.useForm<FormValues>();
  const { error, setError, busy, run } = useSubmit();
  const type = (Form.useWatch('type', form) ?? 'jupyter') as NotebookType;
  // A fresh name each time the dialog opens (its form is rebuilt then).
  const username = props.me?.user.username;
  const name = useMemo(() => suggestName(username), [props.open, username]);

  const submit = async () => {
    let v: FormValues;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    await run(async () => {
      const n = await api.createNotebook(buildDoc(v));
      props.onSaved(n);
    });
  };

  const initial: FormValues = {
    project: props.initialProject ?? 'public',
    name,
    type: 'jupyter',
    cpu: 1,
    memory: '2G',
    gpu: 0,
    env: '',
  };
  const tid = (f: string) => `notebook-form-${f}`;
  const mono = { fontFamily: MONO };

  return (
    <FormModal
      title="New notebook"
      open={props.open}
      okText="Create"
      busy={busy}
      error={error}
      testId="notebook-form"
      width={760}
      onOk={() => void submit()}
      onClose={props.onClose}
      clearError={() => setError(null)}
    >
      <Form<FormValues> form={form} layout="vertical" preserve={false} initialValues={initial}>
        <Row gutter={16}>
          <Col span={8}>
            <Form.Item label="Project" name="project" rules={[{ required: true, message: 'Choose a project' }]}>
              <Select data-testid={tid('project')} options={projectOptions(props.me)} showSearch optionFilterProp="label" />
            </Form.Item>
          </Col>
          <Col span={16}>
            <Form.Item
              label="Name"
              name="name"
              rules={[{ required: true, whitespace: true, message: 'Enter a name' }]}
              extra={`Lower-case letters, digits and "-", starting with a letter; at most ${MAX_NAME} characters.`}
            >
              <Input data-testid={tid('name')} autoFocus spellCheck={false} />
            </Form.Item>
          </Col>
        </Row>
        <Row gutter={16}>
          <Col span={8}>
            <Form.Item label="Type" name="type" rules={[{ required: true }]}>
              <Radio.Group
                data-testid={tid('type')}
                optionType="button"
                options={NOTEBOOK_TYPES.map((t) => ({ value: t, label: t === 'vscode' ? 'VS Code' : 'Jupyter' }))}
              />
            </Form.Item>
          </Col>
          <Col span={16}>
            <Form.Item label="Image" name="image" extra="Empty: the default image of the type.">
              <Input data-testid={tid('image')} spellCheck={false} placeholder={NOTEBOOK_DEFAULT_IMAGES[type] ?? NOTEBOOK_DEFAULT_IMAGES.jupyter} />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item label="Description" name="description">
          <Input data-testid={tid('description')} />
        </Form.Item>
        <Row gutter={16}>
          <Col span={8}>
            <Form.Item label="CPU" name="cpu">
              <InputNumber data-testid={tid('cpu')} min={0} step={0.5} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item label="Memory" name="memory" extra='e.g. "2G", "512M"'>
              <Input data-testid={tid('memory')} spellCheck={false} style={mono} />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item label="GPU" name="gpu">
              <InputNumber data-testid={tid('gpu')} min={0} step={1} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item label="Environment" name="env" extra="KEY=VALUE, one a line">
          <Input.TextArea data-testid={tid('env')} autoSize={{ minRows: 2, maxRows: 8 }} spellCheck={false} style={mono} />
        </Form.Item>
        <Row gutter={16}>
          <Col span={12}>
            <Form.Item label="Working directory" name="working_dir" extra="Empty: /mnt/<your username>">
              <Input data-testid={tid('working-dir')} spellCheck={false} style={mono} />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item label="Volume mount" name="volume_mount" extra='e.g. "kubeflow-user-workspace(pvc):/mnt"'>
              <Input data-testid={tid('volume-mount')} spellCheck={false} style={mono} />
            </Form.Item>
          </Col>
        </Row>
      </Form>
    </FormModal>
  );
}

/**
 * The output of a notebook's server, read with `fetch` from GET /notebooks/{id}/logs?follow=1
 * as a stream (like the build and task logs); it follows again when the stream ends while
 * the notebook is still meant to run, and says so when there is no server.
 */
function NotebookLog({ notebook }: { notebook: Notebook }) {
  const id = notebook.id;
  const workload = notebook.server?.workload ?? '';
  const [log, setLog] = useState('');
  const [trimmed, setTrimmed] = useState(false);
  const [streaming, setStreaming] = useState(false);
  const [ended, setEnded] = useState(false);
  const [streamError, setStreamError] = useState<string | null>(null);
  const [again, setAgain] = useState(0);
  const preRef = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  const wanted = notebook.desired === 'running';

  useEffect(() => {
    const ctrl = new AbortController();
    // Each (re)connection reads the log from its start.
    setLog('');
    setTrimmed(false);
    setEnded(false);
    setStreamError(null);
    setStreaming(true);
    api
      .followNotebookLog(
        id,
        (text) =>
          setLog((prev) => {
            const next = prev + text;
            if (next.length <= MAX_LOG_CHARS) return next;
            setTrimmed(true);
            return next.slice(next.length - MAX_LOG_CHARS);
          }),
        ctrl.signal,
      )
      .then(() => {
        if (ctrl.signal.aborted) return;
        setStreaming(false);
        setEnded(true);
      })
      .catch((e: unknown) => {
        if (ctrl.signal.aborted) return;
        setStreaming(false);
        setEnded(true);
        setStreamError(errorText(e));
      });
    return () => ctrl.abort();
    // A new server (reset, start) is a new log.
  }, [id, workload, again]);

  // The stream ended while the notebook should be running (a server starting, a cut connection): follow again.
  useEffect(() => {
    if (!ended || !wanted) return;
    const t = setTimeout(() => setAgain((n) => n + 1), 3000);
    return () => clearTimeout(t);
  }, [ended, wanted]);

  useLayoutEffect(() => {
    const el = preRef.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [log]);

  let status: ReactNode = null;
  if (streaming) {
    status = (
      <Typography.Text type="secondary" data-testid="notebook-log-live">
        <LoadingOutlined /> live
      </Typography.Text>
    );
  } else if (ended) {
    status = (
      <Typography.Text type="secondary" data-testid="notebook-log-ended">
        {wanted ? 'waiting for the server…' : 'end of log'}
      </Typography.Text>
    );
  }

  return (
    <div>
      <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 8 }}>
        <Space>
          <StateTag state={notebook.state} testId="notebook-log-state" />
          {notebook.server?.workload ? (
            <Typography.Text type="secondary" style={{ fontFamily: MONO, fontSize: 12 }}>
              {notebook.server.workload}
            </Typography.Text>
          ) : null}
        </Space>
        <Space>
          {status}
          {!streaming && (
            <Button size="small" icon={<ReloadOutlined />} onClick={() => setAgain((n) => n + 1)} data-testid="notebook-log-reload">
              Reload log
            </Button>
          )}
        </Space>
      </Space>
      {streamError && <Alert type="info" showIcon style={{ marginBottom: 12 }} message={streamError} data-testid="notebook-log-error" />}
      {trimmed && (
        <Typography.Text type="secondary" style={{ display: 'block', marginBottom: 8 }}>
          Earlier output is not shown (the log is longer than the page keeps).
        </Typography.Text>
      )}
      <pre
        ref={preRef}
        data-testid="notebook-log"
        aria-label={`Log of notebook ${notebook.name}`}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
        style={{ ...CODE_BLOCK_STYLE, minHeight: 120, maxHeight: 'calc(100vh - 220px)' }}
      >
        {log}
      </pre>
    </div>
  );
}

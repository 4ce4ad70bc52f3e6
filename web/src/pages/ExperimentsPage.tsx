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
  Tooltip,
  Typography,
} from 'antd';
import { DeleteOutlined, PlusOutlined, ReloadOutlined, StopOutlined } from '@ant-design/icons';
import { useCallback, useEffect, useState, type HTMLAttributes } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, errorText, FINAL_EXPERIMENT_STATES, type Experiment, type ExperimentDoc } from '../api';
import { useAuth } from '../auth';
import FormModal, { useSubmit } from '../components/FormModal';
import { ALL_PROJECTS, defaultProject, MONO, ProjectFilter, projectOptions } from '../components/images';
import { fmtTimeSec, StateTag } from '../components/pipelines';
import { fmtNumber } from '../components/LineChart';

const none = <Typography.Text type="secondary">—</Typography.Text>;

/** The tuners NNI offers (and the server implements), in NNI's order. */
export const TUNERS = ['TPE', 'Random', 'Anneal', 'Evolution', 'SMAC', 'BatchTuner', 'GridSearch', 'Hyperband', 'MetisTuner', 'GPTuner'];
export const ASSESSORS = ['', 'Medianstop'];

/**
 * The Experiments area (hyperparameter search): every experiment of the caller's
 * projects with its state, tuner, trial counts and best value; "New experiment", Stop and
 * Delete. Re-read every 2 s while an experiment in the list is active.
 */
export default function ExperimentsPage() {
  const { me } = useAuth();
  const { message } = App.useApp();
  const [params, setParams] = useSearchParams();
  const project = params.get('project') ?? ALL_PROJECTS;
  const [items, setItems] = useState<Experiment[]>([]);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);

  const load = useCallback(
    async (quiet = false) => {
      if (!quiet) setLoading(true);
      try {
        const res = await api.listExperiments(project || undefined);
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

  const active = items.some((x) => !FINAL_EXPERIMENT_STATES.includes(x.state));
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => void load(true), 2000);
    return () => clearInterval(t);
  }, [active, load]);

  const setProject = (p: string) => {
    const next = new URLSearchParams(params);
    if (p) next.set('project', p);
    else next.delete('project');
    setParams(next);
  };

  const stop = async (x: Experiment) => {
    try {
      await api.stopExperiment(x.id);
      message.success(`Experiment ${x.name} is stopping`);
      void load(true);
    } catch (e) {
      message.error(errorText(e));
    }
  };
  const remove = async (x: Experiment) => {
    try {
      await api.deleteExperiment(x.id);
      message.success(`Experiment ${x.name} deleted`);
      void load(true);
    } catch (e) {
      message.error(errorText(e));
    }
  };

  return (
    <Card
      title={<Typography.Title level={4} style={{ margin: 0 }}>Experiments</Typography.Title>}
      extra={
        <Space>
          <Typography.Text type="secondary">Project</Typography.Text>
          <ProjectFilter me={me} value={project} onChange={setProject} testId="experiments-project-filter" />
          <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label="Reload experiments" />
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} data-testid="new-experiment">
            New experiment
          </Button>
        </Space>
      }
    >
      {loadError && <Alert type="error" showIcon role="alert" message={loadError} style={{ marginBottom: 16 }} data-testid="experiments-error" />}
      <Table<Experiment>
        data-testid="experiments-table"
        rowKey="id"
        loading={loading}
        dataSource={items}
        pagination={{ hideOnSinglePage: true, pageSize: 50 }}
        onRow={(x) => ({ 'data-testid': `experiment-row-${x.project}/${x.name}`, 'data-state': x.state }) as HTMLAttributes<HTMLElement>}
        columns={[
          {
            title: 'Name',
            dataIndex: 'name',
            render: (n: string, x) => (
              <Space direction="vertical" size={0}>
                <Link to={`/experiments/${x.id}`} data-testid={`experiment-link-${x.project}/${n}`}>
                  {n}
                </Link>
                {x.describe && (
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {x.describe}
                  </Typography.Text>
                )}
              </Space>
            ),
          },
          { title: 'Project', dataIndex: 'project' },
          { title: 'State', dataIndex: 'state', render: (s: string) => <StateTag state={s} /> },
          {
            title: 'Tuner',
            dataIndex: 'tuner',
            render: (t: string, x) => (
              <Space direction="vertical" size={0}>
                <span>{t}</span>
                {x.assessor && (
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    assessor {x.assessor}
                  </Typography.Text>
                )}
              </Space>
            ),
          },
          {
            title: 'Trials',
            key: 'trials',
            render: (_: unknown, x) => {
              const c = x.trials ?? { total: 0 };
              const detail = Object.entries(c)
                .filter(([k, v]) => k !== 'total' && v)
                .map(([k, v]) => `${k}: ${v}`)
                .join(', ');
              return (
                <Tooltip title={detail || undefined}>
                  <span data-testid={`experiment-trials-${x.id}`}>
                    {c.succeeded ?? 0}/{c.total ?? 0}
                    {x.max_trials ? <Typography.Text type="secondary"> of {x.max_trials}</Typography.Text> : null}
                    {c.failed ? <Typography.Text type="danger">, {c.failed} failed</Typography.Text> : null}
                    {c.running ? <Typography.Text type="secondary">, {c.running} running</Typography.Text> : null}
                  </span>
                </Tooltip>
              );
            },
          },
          {
            title: 'Best value',
            key: 'best',
            render: (_: unknown, x) =>
              x.best ? (
                <Tooltip title={`trial #${x.best.sequence} (${x.best.trial_id}), ${x.objective}: ${x.best.value}`}>
                  <span data-testid={`experiment-best-${x.id}`} data-value={x.best.value}>
                    {fmtNumber(x.best.value)}
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {' '}
                      {x.objective === 'minimize' ? '(min)' : '(max)'}
                    </Typography.Text>
                  </span>
                </Tooltip>
              ) : (
                none
              ),
          },
          {
            title: 'Created',
            dataIndex: 'created_at',
            render: (t: string, x) => (
              <Space direction="vertical" size={0}>
                <span>{fmtTimeSec(t)}</span>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {x.created_by}
                </Typography.Text>
              </Space>
            ),
          },
          {
            title: '',
            key: 'actions',
            render: (_: unknown, x) => (
              <Space>
                {!FINAL_EXPERIMENT_STATES.includes(x.state) && (
                  <Popconfirm
                    title={`Stop experiment ${x.name}?`}
                    description="Running trials are killed; no new trials start."
                    okText="Stop"
                    okButtonProps={{ danger: true }}
                    onConfirm={() => stop(x)}
                  >
                    <Button size="small" danger icon={<StopOutlined />} data-testid={`experiment-stop-${x.id}`}>
                      Stop
                    </Button>
                  </Popconfirm>
                )}
                <Popconfirm
                  title={`Delete experiment ${x.name}?`}
                  description="Its trials (and their logs) are deleted too; running ones are stopped."
                  okText="Delete"
                  okButtonProps={{ danger: true }}
                  onConfirm={() => remove(x)}
                >
                  <Button size="small" danger icon={<DeleteOutlined />} aria-label={`Delete ${x.name}`} data-testid={`experiment-delete-${x.id}`} />
                </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
      <NewExperimentModal
        open={open}
        initialProject={defaultProject(me, project)}
        onClose={() => setOpen(false)}
        onCreated={(x) => {
          setOpen(false);
          message.success(`Experiment ${x.name} created`);
        }}
      />
    </Card>
  );
}

interface NewForm {
  project: string;
  name: string;
  describe?: string;
  image?: string;
  command: string;
  search_space: string;
  tuner: string;
  assessor: string;
  objective: 'maximize' | 'minimize';
  max_trials?: number | null;
  parallelism?: number | null;
  max_duration?: string;
  main_py?: string;
}

const SEARCH_SPACE_EXAMPLE = `{
  "lr": {"_type": "loguniform", "_value": [0.0001, 0.1]},
  "batch_size": {"_type": "choice", "_value": [16, 32, 64]}
}`;

const MAIN_PY_EXAMPLE = `import nni

params = nni.get_next_parameter()
lr = params["lr"]
batch_size = params["batch_size"]

accuracy = 0.0
for epoch in range(5):
    accuracy += (1 - accuracy) * 0.3  # train one epoch here
    nni.report_intermediate_result(accuracy)
nni.report_final_result(accuracy)
`;

/** The search space text as a JSON object, or an error message. */
export function parseSearchSpace(text: string | undefined): { value: Record<string, unknown> } | { error: string } {
  if (!text || !text.trim()) return { error: 'Enter the search space' };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { error: `The search space is not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    return { error: 'The search space must be a JSON object: {"name": {"_type": "choice", "_value": [...]}, ...}' };
  }
  return { value: v as Record<string, unknown> };
}

/** A command as typed: a JSON list (`["python3", "main.py"]`) stays a list; other text is run by `sh -c`. */
export function parseCommand(text: string): string | string[] {
  const t = text.trim();
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch {
      /* not a list: run it as a shell command */
    }
  }
  return t;
}

/** A max duration as typed: digits are seconds, anything else ("30m", "1h") goes as it is. */
function parseDuration(text: string | undefined): number | string | undefined {
  const t = (text ?? '').trim();
  if (!t) return undefined;
  return /^\d+$/.test(t) ? Number(t) : t;
}

/**
 * "New experiment": project, name, image, command, search space (JSON, checked here),
 * tuner, assessor, objective, limits and a main.py. POSTs the document; the server's
 * error is shown as it is. Opens the new experiment's page on success.
 */
function NewExperimentModal(props: { open: boolean; initialProject?: string; onClose: () => void; onCreated: (x: Experiment) => void }) {
  const { me } = useAuth();
  const navigate = useNavigate();
  const [form] = Form.useForm<NewForm>();
  const { error, setError, busy, run } = useSubmit();

  const submit = async () => {
    let v: NewForm;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    const space = parseSearchSpace(v.search_space);
    if ('error' in space) return; // the field's own rule shows it
    const doc: ExperimentDoc = {
      project: v.project,
      name: v.name.trim(),
      search_space: space.value,
      tuner: v.tuner,
      assessor: v.assessor || '',
      objective: v.objective,
    };
    if (v.describe?.trim()) doc.describe = v.describe.trim();
    if (v.image?.trim()) doc.image = v.image.trim();
    if (v.command?.trim()) doc.command = parseCommand(v.command);
    if (v.max_trials) doc.max_trials = v.max_trials;
    if (v.parallelism) doc.parallelism = v.parallelism;
    const dur = parseDuration(v.max_duration);
    if (dur !== undefined) doc.max_duration = dur;
    if (v.main_py?.trim()) doc.files = { 'main.py': v.main_py };
    await run(async () => {
      const x = await api.createExperiment(doc);
      props.onCreated(x);
      navigate(`/experiments/${x.id}`);
    });
  };

  return (
    <FormModal
      title="New experiment"
      open={props.open}
      okText="Create"
      busy={busy}
      error={error}
      testId="new-experiment"
      width={820}
      onOk={() => void submit()}
      onClose={props.onClose}
      clearError={() => setError(null)}
    >
      <Form<NewForm>
        form={form}
        layout="vertical"
        preserve={false}
        initialValues={{
          project: props.initialProject,
          image: 'quader/python:3.11',
          command: 'python3 main.py',
          search_space: SEARCH_SPACE_EXAMPLE,
          tuner: 'TPE',
          assessor: '',
          objective: 'maximize',
          max_trials: 10,
          parallelism: 2,
          max_duration: '1h',
          main_py: MAIN_PY_EXAMPLE,
        }}
      >
        <Row gutter={16}>
          <Col span={8}>
            <Form.Item label="Project" name="project" rules={[{ required: true, message: 'Choose a project' }]}>
              <Select data-testid="new-experiment-project" options={projectOptions(me)} showSearch optionFilterProp="label" />
            </Form.Item>
          </Col>
          <Col span={16}>
            <Form.Item
              label="Name"
              name="name"
              rules={[
                { required: true, whitespace: true, message: 'Enter a name' },
                {
                  pattern: /^[a-z][a-z0-9-]*[a-z0-9]$/,
                  message: 'Lower-case letters, digits and "-"; starts with a letter, ends with a letter or digit',
                },
                { max: 54, message: 'At most 54 characters' },
              ]}
            >
              <Input data-testid="new-experiment-name" autoFocus spellCheck={false} placeholder="batch-size-search" />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item label="Description" name="describe">
          <Input data-testid="new-experiment-describe" />
        </Form.Item>
        <Row gutter={16}>
          <Col span={10}>
            <Form.Item label="Image" name="image">
              <Input data-testid="new-experiment-image" spellCheck={false} />
            </Form.Item>
          </Col>
          <Col span={14}>
            <Form.Item
              label="Command"
              name="command"
              rules={[{ required: true, whitespace: true, message: 'Enter the trial command' }]}
              extra='Run by sh -c, or a JSON list such as ["python3", "main.py"]; each trial gets its values appended as --name=value.'
            >
              <Input data-testid="new-experiment-command" spellCheck={false} style={{ fontFamily: MONO }} />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item
          label="Search space (NNI JSON)"
          name="search_space"
          rules={[
            {
              validator: async (_, v: string | undefined) => {
                const r = parseSearchSpace(v);
                if ('error' in r) throw new Error(r.error);
              },
            },
          ]}
        >
          <Input.TextArea
            data-testid="new-experiment-search-space"
            autoSize={{ minRows: 4, maxRows: 14 }}
            spellCheck={false}
            style={{ fontFamily: MONO, fontSize: 12.5 }}
          />
        </Form.Item>
        <Row gutter={16}>
          <Col span={8}>
            <Form.Item label="Tuner" name="tuner" rules={[{ required: true }]}>
              <Select data-testid="new-experiment-tuner" options={TUNERS.map((t) => ({ value: t, label: t, title: t }))} />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item label="Assessor" name="assessor">
              <Select
                data-testid="new-experiment-assessor"
                options={ASSESSORS.map((a) => ({ value: a, label: a || 'none', title: a || 'none' }))}
              />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item label="Objective" name="objective">
              <Radio.Group data-testid="new-experiment-objective" optionType="button">
                <Radio.Button value="maximize">maximize</Radio.Button>
                <Radio.Button value="minimize">minimize</Radio.Button>
              </Radio.Group>
            </Form.Item>
          </Col>
        </Row>
        <Row gutter={16}>
          <Col span={8}>
            <Form.Item label="Max trials" name="max_trials">
              <InputNumber data-testid="new-experiment-max-trials" min={1} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item label="Parallelism" name="parallelism">
              <InputNumber data-testid="new-experiment-parallelism" min={1} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item label="Max duration" name="max_duration" extra="seconds, or 30m, 1h; empty or 0: none">
              <Input data-testid="new-experiment-max-duration" spellCheck={false} />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item label="main.py" name="main_py" extra="Mounted read-only with the trial's working directory (/experiment); leave empty to use the image's own code.">
          <Input.TextArea
            data-testid="new-experiment-main-py"
            autoSize={{ minRows: 6, maxRows: 20 }}
            spellCheck={false}
            style={{ fontFamily: MONO, fontSize: 12.5 }}
          />
        </Form.Item>
      </Form>
    </FormModal>
  );
}

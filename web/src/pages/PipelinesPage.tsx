import { Alert, App, Button, Card, Form, Input, Popconfirm, Select, Space, Table, Tooltip, Typography } from 'antd';
import { DeleteOutlined, PlayCircleOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { useCallback, useEffect, useState, type HTMLAttributes } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, errorText, fmtTime, type Pipeline } from '../api';
import { useAuth } from '../auth';
import FormModal, { useSubmit } from '../components/FormModal';
import { ALL_PROJECTS, defaultProject, MONO, ProjectFilter, projectOptions } from '../components/images';
import { StateTag } from '../components/pipelines';
import type { NewPipelineState } from '../components/pipelineDraft';

const none = <Typography.Text type="secondary">—</Typography.Text>;

/** The Pipelines area: every pipeline of the caller's projects, "New pipeline", run, delete. */
export default function PipelinesPage() {
  const { me } = useAuth();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const project = params.get('project') ?? ALL_PROJECTS;
  const [items, setItems] = useState<Pipeline[]>([]);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const [running, setRunning] = useState<number | null>(null);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const res = await api.listPipelines(project || undefined);
      setItems(res.items ?? []);
      setLoadError(null);
    } catch (e) {
      setItems([]);
      setLoadError(errorText(e));
    } finally {
      setLoading(false);
    }
  }, [project]);

  useEffect(() => {
    void load();
  }, [load]);

  const setProject = (p: string) => {
    const next = new URLSearchParams(params);
    if (p) next.set('project', p);
    else next.delete('project');
    setParams(next);
  };

  const run = async (p: Pipeline) => {
    setRunning(p.id);
    try {
      const r = await api.runPipeline(p.id);
      navigate(`/runs/${r.id}`);
    } catch (e) {
      message.error(errorText(e));
    } finally {
      setRunning(null);
    }
  };

  const remove = async (p: Pipeline) => {
    try {
      await api.deletePipeline(p.id);
      message.success(`Pipeline ${p.name} deleted`);
      void load();
    } catch (e) {
      message.error(errorText(e));
    }
  };

  const q = (p: Pipeline) => `project=${encodeURIComponent(p.project)}&pipeline=${encodeURIComponent(p.name)}`;

  return (
    <Card
      title={<Typography.Title level={4} style={{ margin: 0 }}>Pipelines</Typography.Title>}
      extra={
        <Space>
          <Typography.Text type="secondary">Project</Typography.Text>
          <ProjectFilter me={me} value={project} onChange={setProject} testId="pipelines-project-filter" />
          <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label="Reload pipelines" />
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} data-testid="new-pipeline">
            New pipeline
          </Button>
        </Space>
      }
    >
      {loadError && <Alert type="error" showIcon role="alert" message={loadError} style={{ marginBottom: 16 }} data-testid="pipelines-error" />}
      <Table<Pipeline>
        data-testid="pipelines-table"
        rowKey="id"
        loading={loading}
        dataSource={items}
        pagination={{ hideOnSinglePage: true, pageSize: 50 }}
        onRow={(p) => ({ 'data-testid': `pipeline-row-${p.project}/${p.name}` }) as HTMLAttributes<HTMLElement>}
        columns={[
          {
            title: 'Name',
            dataIndex: 'name',
            render: (n: string, p) => (
              <Space direction="vertical" size={0}>
                <Link to={`/pipelines/${p.id}`} data-testid={`pipeline-link-${p.project}/${n}`}>
                  {n}
                </Link>
                {p.description && (
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {p.description}
                  </Typography.Text>
                )}
              </Space>
            ),
          },
          { title: 'Project', dataIndex: 'project' },
          { title: 'Tasks', key: 'tasks', render: (_: unknown, p) => p.tasks?.length ?? 0 },
          {
            title: 'Schedule',
            key: 'schedule',
            render: (_: unknown, p) =>
              p.schedule?.cron ? (
                <Space size={4} wrap>
                  <Typography.Text code style={{ fontFamily: MONO }}>
                    {p.schedule.cron}
                  </Typography.Text>
                  <Typography.Text type="secondary">{p.schedule.timezone || 'UTC'}</Typography.Text>
                  {p.schedule.enabled === false && <Typography.Text type="warning">disabled</Typography.Text>}
                </Space>
              ) : (
                none
              ),
          },
          {
            title: 'Next fire',
            dataIndex: 'next_fire',
            render: (t: string | null, p) =>
              t ? (
                <Link to={`/schedules?${q(p)}`}>
                  <Tooltip title={t}>{fmtTime(t)}</Tooltip>
                </Link>
              ) : (
                none
              ),
          },
          {
            title: 'Last run',
            dataIndex: 'last_run',
            render: (r: Pipeline['last_run'], p) =>
              r ? (
                <Space size={4}>
                  <Link to={`/runs/${r.id}`} data-testid={`pipeline-last-run-${p.project}/${p.name}`}>
                    #{r.id}
                  </Link>
                  <StateTag state={r.state} />
                  <Link to={`/runs?${q(p)}`} style={{ fontSize: 12 }}>
                    all runs
                  </Link>
                </Space>
              ) : (
                none
              ),
          },
          { title: 'Created by', dataIndex: 'created_by' },
          {
            title: '',
            key: 'actions',
            render: (_: unknown, p) => (
              <Space>
                <Button
                  size="small"
                  icon={<PlayCircleOutlined />}
                  loading={running === p.id}
                  onClick={() => void run(p)}
                  data-testid={`pipeline-run-${p.project}/${p.name}`}
                >
                  Run
                </Button>
                <Popconfirm
                  title={`Delete pipeline ${p.name}?`}
                  description="Its active runs are stopped. Finished runs stay."
                  okText="Delete"
                  okButtonProps={{ danger: true }}
                  onConfirm={() => remove(p)}
                >
                  <Button size="small" danger icon={<DeleteOutlined />} aria-label={`Delete ${p.name}`} data-testid={`pipeline-delete-${p.id}`} />
                </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
      <NewPipelineModal open={open} initialProject={defaultProject(me, project)} onClose={() => setOpen(false)} />
    </Card>
  );
}

interface NewForm {
  name: string;
  project: string;
  description?: string;
}

/**
 * "New pipeline": name, project and description, then the editor with an empty canvas.
 * A pipeline needs at least one task, so nothing is saved until the editor's Save.
 */
function NewPipelineModal(props: { open: boolean; initialProject?: string; onClose: () => void }) {
  const { me } = useAuth();
  const navigate = useNavigate();
  const [form] = Form.useForm<NewForm>();
  const { error, setError, busy } = useSubmit();

  const submit = async () => {
    let v: NewForm;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    const state: NewPipelineState = { name: v.name.trim(), project: v.project, description: v.description ?? '' };
    props.onClose();
    navigate('/pipelines/new', { state });
  };

  return (
    <FormModal
      title="New pipeline"
      open={props.open}
      okText="Open editor"
      busy={busy}
      error={error}
      testId="new-pipeline"
      width={560}
      onOk={() => void submit()}
      onClose={props.onClose}
      clearError={() => setError(null)}
    >
      <Form<NewForm> form={form} layout="vertical" preserve={false} initialValues={{ project: props.initialProject }}>
        <Form.Item label="Project" name="project" rules={[{ required: true, message: 'Choose a project' }]}>
          <Select data-testid="new-pipeline-project" options={projectOptions(me)} showSearch optionFilterProp="label" />
        </Form.Item>
        <Form.Item
          label="Name"
          name="name"
          rules={[{ required: true, whitespace: true, message: 'Enter a name' }]}
          extra="The pipeline is saved when you save it in the editor (it needs at least one task)."
        >
          <Input data-testid="new-pipeline-name" autoFocus spellCheck={false} />
        </Form.Item>
        <Form.Item label="Description" name="description">
          <Input.TextArea data-testid="new-pipeline-description" autoSize={{ minRows: 2, maxRows: 6 }} />
        </Form.Item>
      </Form>
    </FormModal>
  );
}

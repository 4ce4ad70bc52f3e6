import { Alert, App, Button, Card, Popconfirm, Select, Space, Table, Tooltip, Typography } from 'antd';
import { DeleteOutlined, ReloadOutlined, StopOutlined } from '@ant-design/icons';
import { useCallback, useEffect, useMemo, useState, type HTMLAttributes } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, errorText, FINAL_RUN_STATES, type Pipeline, type Run } from '../api';
import { useAuth } from '../auth';
import { ALL_PROJECTS, ProjectFilter } from '../components/images';
import { duration, fmtTimeSec, pipelineChoices, StateTag } from '../components/pipelines';

const none = <Typography.Text type="secondary">—</Typography.Text>;
const RUN_STATES = ['pending', 'running', 'succeeded', 'failed', 'stopped'];

/**
 * The Runs area: runs of the caller's projects, newest first, filtered by project,
 * pipeline and state (?project=P&pipeline=NAME&state=S). Re-read every 2 s while a run
 * in the list is active.
 */
export default function RunsPage() {
  const { me } = useAuth();
  const { message } = App.useApp();
  const [params, setParams] = useSearchParams();
  const project = params.get('project') ?? ALL_PROJECTS;
  const pipeline = params.get('pipeline') ?? '';
  const state = params.get('state') ?? '';
  const [items, setItems] = useState<Run[]>([]);
  const [pipelines, setPipelines] = useState<Pipeline[]>([]);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<string | null>(null);

  const load = useCallback(
    async (quiet = false) => {
      if (!quiet) setLoading(true);
      try {
        const res = await api.listRuns({ project: project || undefined, pipeline: pipeline || undefined, state: state || undefined });
        setItems(res.items ?? []);
        setLoadError(null);
      } catch (e) {
        if (!quiet) setItems([]);
        setLoadError(errorText(e));
      } finally {
        if (!quiet) setLoading(false);
      }
    },
    [project, pipeline, state],
  );

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    api
      .listPipelines(project || undefined)
      .then((r) => setPipelines(r.items ?? []))
      .catch(() => setPipelines([]));
  }, [project]);

  const active = items.some((r) => !FINAL_RUN_STATES.includes(r.state));
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => void load(true), 2000);
    return () => clearInterval(t);
  }, [active, load]);

  const setParam = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    if (k === 'project') next.delete('pipeline');
    setParams(next);
  };

  // A pipeline is named within its project: the option is "project/name", and picking
  // one sets both filters (the API looks a pipeline name up in ?project=, default public).
  const pipelineOptions = useMemo(() => pipelineChoices(pipelines, project, pipeline), [pipelines, project, pipeline]);
  const pickPipeline = (v?: string) => {
    const next = new URLSearchParams(params);
    if (v) {
      const [p, n] = v.split('/', 2);
      next.set('project', p);
      next.set('pipeline', n);
    } else {
      next.delete('pipeline');
    }
    setParams(next);
  };

  const stop = async (r: Run) => {
    try {
      await api.stopRun(r.id);
      message.success(`Run #${r.id} is stopping`);
      void load(true);
    } catch (e) {
      message.error(errorText(e));
    }
  };
  const remove = async (r: Run) => {
    try {
      await api.deleteRun(r.id);
      message.success(`Run #${r.id} deleted`);
      void load(true);
    } catch (e) {
      message.error(errorText(e));
    }
  };

  return (
    <Card
      title={<Typography.Title level={4} style={{ margin: 0 }}>Runs</Typography.Title>}
      extra={
        <Space wrap>
          <ProjectFilter me={me} value={project} onChange={(v) => setParam('project', v)} testId="runs-project-filter" />
          <Select
            data-testid="runs-pipeline-filter"
            aria-label="Pipeline"
            placeholder="All pipelines"
            allowClear
            showSearch
            value={pipeline ? `${project || 'public'}/${pipeline}` : undefined}
            onChange={pickPipeline}
            options={pipelineOptions}
            style={{ minWidth: 180 }}
          />
          <Select
            data-testid="runs-state-filter"
            aria-label="State"
            placeholder="Any state"
            allowClear
            value={state || undefined}
            onChange={(v?: string) => setParam('state', v ?? '')}
            options={RUN_STATES.map((s) => ({ value: s, label: s, title: s }))}
            style={{ minWidth: 130 }}
          />
          <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label="Reload runs" />
        </Space>
      }
    >
      {loadError && <Alert type="error" showIcon role="alert" message={loadError} style={{ marginBottom: 16 }} data-testid="runs-error" />}
      <Table<Run>
        data-testid="runs-table"
        rowKey="id"
        loading={loading}
        dataSource={items}
        pagination={{ hideOnSinglePage: true, pageSize: 50 }}
        onRow={(r) => ({ 'data-testid': `run-row-${r.id}`, 'data-state': r.state }) as HTMLAttributes<HTMLElement>}
        columns={[
          {
            title: 'Run',
            dataIndex: 'id',
            render: (id: number) => (
              <Link to={`/runs/${id}`} data-testid={`run-link-${id}`}>
                #{id}
              </Link>
            ),
          },
          {
            title: 'Pipeline',
            dataIndex: 'pipeline',
            render: (n: string, r) => (
              <Space direction="vertical" size={0}>
                {r.pipeline_id ? <Link to={`/pipelines/${r.pipeline_id}`}>{n}</Link> : n}
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {r.project}
                </Typography.Text>
              </Space>
            ),
          },
          { title: 'State', dataIndex: 'state', render: (s: string) => <StateTag state={s} /> },
          {
            title: 'Tasks',
            key: 'tasks',
            render: (_: unknown, r) => {
              const states = r.task_states ?? {};
              const total = r.task_count ?? Object.values(states).reduce((a, b) => a + b, 0);
              if (!total) return none;
              return (
                <Tooltip title={Object.entries(states).map(([s, n]) => `${s}: ${n}`).join(', ')}>
                  <span>
                    {states.succeeded ?? 0}/{total} succeeded
                    {states.failed ? <Typography.Text type="danger">, {states.failed} failed</Typography.Text> : null}
                    {states.skipped ? <Typography.Text type="secondary">, {states.skipped} skipped</Typography.Text> : null}
                  </span>
                </Tooltip>
              );
            },
          },
          { title: 'Trigger', dataIndex: 'trigger' },
          { title: 'Runner', dataIndex: 'runner' },
          { title: 'Execution date', dataIndex: 'execution_date' },
          { title: 'Started', dataIndex: 'started_at', render: (t: string | null) => (t ? fmtTimeSec(t) : none) },
          { title: 'Duration', key: 'duration', render: (_: unknown, r) => duration(r.started_at, r.finished_at) || none },
          {
            title: '',
            key: 'actions',
            render: (_: unknown, r) =>
              FINAL_RUN_STATES.includes(r.state) ? (
                <Popconfirm
                  title={`Delete run #${r.id}?`}
                  description="Its logs and artifacts are deleted too."
                  okText="Delete"
                  okButtonProps={{ danger: true }}
                  onConfirm={() => remove(r)}
                >
                  <Button size="small" danger icon={<DeleteOutlined />} aria-label={`Delete run ${r.id}`} data-testid={`run-delete-${r.id}`} />
                </Popconfirm>
              ) : (
                <Popconfirm title={`Stop run #${r.id}?`} okText="Stop" okButtonProps={{ danger: true }} onConfirm={() => stop(r)}>
                  <Button size="small" danger icon={<StopOutlined />} data-testid={`run-stop-${r.id}`}>
                    Stop
                  </Button>
                </Popconfirm>
              ),
          },
        ]}
      />
    </Card>
  );
}

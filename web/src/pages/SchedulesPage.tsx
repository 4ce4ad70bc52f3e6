import { Alert, Button, Card, Select, Space, Table, Tooltip, Typography } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import { useCallback, useEffect, useMemo, useState, type HTMLAttributes } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, errorText, type Pipeline, type ScheduleRecord } from '../api';
import { useAuth } from '../auth';
import { ALL_PROJECTS, MONO, ProjectFilter } from '../components/images';
import { fmtTimeSec, pipelineChoices, ScheduleStateTag, StateTag } from '../components/pipelines';

const none = <Typography.Text type="secondary">—</Typography.Text>;

/**
 * The Schedules area: the pipelines with a schedule, and the record each fire time of
 * a schedule left (newest first): launched (created), waiting (comed) or skipped and why.
 * Filtered by project and pipeline (?project=P&pipeline=NAME).
 */
export default function SchedulesPage() {
  const { me } = useAuth();
  const [params, setParams] = useSearchParams();
  const project = params.get('project') ?? ALL_PROJECTS;
  const pipeline = params.get('pipeline') ?? '';
  const [items, setItems] = useState<ScheduleRecord[]>([]);
  const [pipelines, setPipelines] = useState<Pipeline[]>([]);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<string | null>(null);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const [recs, pls] = await Promise.all([
        api.listSchedules({ project: project || undefined, pipeline: pipeline || undefined }),
        api.listPipelines(project || undefined).catch(() => ({ items: [] as Pipeline[] })),
      ]);
      setItems(recs.items ?? []);
      setPipelines(pls.items ?? []);
      setLoadError(null);
    } catch (e) {
      setItems([]);
      setLoadError(errorText(e));
    } finally {
      setLoading(false);
    }
  }, [project, pipeline]);

  useEffect(() => {
    void load();
  }, [load]);

  // Records appear on their own as the schedules fire: re-read now and then.
  useEffect(() => {
    const t = setInterval(() => void load(), 15000);
    return () => clearInterval(t);
  }, [load]);

  const setParam = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    if (k === 'project') next.delete('pipeline');
    setParams(next);
  };

  const scheduled = pipelines.filter((p) => p.schedule?.cron && (!pipeline || (p.name === pipeline && p.project === (project || 'public'))));
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

  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Card
        title={<Typography.Title level={4} style={{ margin: 0 }}>Schedules</Typography.Title>}
        extra={
          <Space wrap>
            <ProjectFilter me={me} value={project} onChange={(v) => setParam('project', v)} testId="schedules-project-filter" />
            <Select
              data-testid="schedules-pipeline-filter"
              aria-label="Pipeline"
              placeholder="All pipelines"
              allowClear
              showSearch
              value={pipeline ? `${project || 'public'}/${pipeline}` : undefined}
              onChange={pickPipeline}
              options={pipelineOptions}
              style={{ minWidth: 180 }}
            />
            <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label="Reload schedules" />
          </Space>
        }
      >
        {loadError && <Alert type="error" showIcon role="alert" message={loadError} style={{ marginBottom: 16 }} data-testid="schedules-error" />}
        <Typography.Title level={5}>Scheduled pipelines</Typography.Title>
        <Table<Pipeline>
          data-testid="scheduled-pipelines"
          rowKey="id"
          size="small"
          loading={loading}
          dataSource={scheduled}
          pagination={false}
          locale={{ emptyText: 'No pipeline here has a schedule (set one in the pipeline editor, Pipeline tab).' }}
          columns={[
            { title: 'Pipeline', dataIndex: 'name', render: (n: string, p) => <Link to={`/pipelines/${p.id}`}>{n}</Link> },
            { title: 'Project', dataIndex: 'project' },
            {
              title: 'Cron',
              key: 'cron',
              render: (_: unknown, p) => <Typography.Text code style={{ fontFamily: MONO }}>{p.schedule?.cron}</Typography.Text>,
            },
            { title: 'Time zone', key: 'tz', render: (_: unknown, p) => p.schedule?.timezone || 'UTC' },
            { title: 'Catch-up', key: 'catchup', render: (_: unknown, p) => p.schedule?.catchup || 'latest' },
            {
              title: 'Enabled',
              key: 'enabled',
              render: (_: unknown, p) => (p.schedule?.enabled === false ? <Typography.Text type="warning">no</Typography.Text> : 'yes'),
            },
            {
              title: 'Next fire',
              dataIndex: 'next_fire',
              render: (t: string | null) => (t ? <Tooltip title={t}>{fmtTimeSec(t)}</Tooltip> : none),
            },
          ]}
        />
      </Card>
      <Card title="Schedule records" size="small">
        <Table<ScheduleRecord>
          data-testid="schedules-table"
          rowKey="id"
          loading={loading}
          dataSource={items}
          pagination={{ hideOnSinglePage: true, pageSize: 50 }}
          onRow={(r) => ({ 'data-testid': `schedule-row-${r.id}`, 'data-state': r.state }) as HTMLAttributes<HTMLElement>}
          columns={[
            {
              title: 'Execution date',
              dataIndex: 'execution_date_local',
              render: (d: string, r) => (
                <Tooltip title={`${r.execution_date} (UTC)`}>
                  <Space size={4}>
                    <span>{d}</span>
                    <Typography.Text type="secondary">{r.timezone}</Typography.Text>
                  </Space>
                </Tooltip>
              ),
            },
            {
              title: 'Pipeline',
              dataIndex: 'pipeline',
              render: (n: string, r) => (
                <Space size={4}>
                  <Link to={`/pipelines/${r.pipeline_id}`}>{n}</Link>
                  <Typography.Text type="secondary">{r.project}</Typography.Text>
                </Space>
              ),
            },
            { title: 'State', dataIndex: 'state', render: (s: string, r) => <ScheduleStateTag state={s} testId={`schedule-state-${r.id}`} /> },
            {
              title: 'Run',
              dataIndex: 'run_id',
              render: (id: number | null, r) =>
                id ? (
                  <Space size={4}>
                    <Link to={`/runs/${id}`} data-testid={`schedule-run-${r.id}`}>
                      #{id}
                    </Link>
                    {r.run_state && <StateTag state={r.run_state} />}
                  </Space>
                ) : (
                  none
                ),
            },
            { title: 'Produced at', dataIndex: 'created_at', render: (t: string) => fmtTimeSec(t) },
          ]}
        />
      </Card>
    </Space>
  );
}

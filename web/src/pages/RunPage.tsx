import '@xyflow/react/dist/style.css';
import {
  Alert,
  App,
  Breadcrumb,
  Button,
  Card,
  Col,
  Descriptions,
  Empty,
  Popconfirm,
  Result,
  Row,
  Select,
  Space,
  Spin,
  Table,
  Tooltip,
  Typography,
} from 'antd';
import { CodeOutlined, DeleteOutlined, LoadingOutlined, RedoOutlined, ReloadOutlined, SaveOutlined, StopOutlined } from '@ant-design/icons';
import { applyNodeChanges, Background, Controls, MarkerType, ReactFlow, ReactFlowProvider, type Edge, type NodeChange } from '@xyflow/react';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { api, ApiError, errorText, FINAL_RUN_STATES, FINAL_TASK_STATES, type Run, type TaskAttempt, type TaskRun } from '../api';
import { Artifacts } from '../components/Artifacts';
import { layeredLayout, loadPositions } from '../components/dag';
import { MONO } from '../components/images';
import { CODE_BLOCK_STYLE } from '../components/SideDrawer';
import { duration, fmtBytes, fmtSeconds, fmtTimeSec, shellQuote, StateTag } from '../components/pipelines';
import { RunTaskNode, type RunNode } from '../components/TaskNodes';
import { edgeTypes } from '../components/RoutedEdge';
import { useLogTools } from '../components/LogTools';
import { TerminalDrawer } from '../components/WorkloadTerminal';
import NewBuildModal from '../components/NewBuildModal';
import { useAuth } from '../auth';

const nodeTypes = { 'run-task': RunTaskNode };
const none = <Typography.Text type="secondary">—</Typography.Text>;
const MAX_LOG_CHARS = 4 * 1024 * 1024;
const pre = { margin: 0, fontFamily: MONO, whiteSpace: 'pre-wrap' as const, wordBreak: 'break-all' as const };

/**
 * One run: its header (pipeline, state, trigger, runner, times, Stop), the DAG of its
 * tasks coloured by state (re-read every second while the run is active), and for the
 * task picked on the DAG (?task=NAME) its "pod view" and live log.
 */
export default function RunPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const [params, setParams] = useSearchParams();
  const taskName = params.get('task');
  const [loaded, setRun] = useState<Run | null>(null);
  const [loadError, setLoadError] = useState<Error | null>(null);
  const [stopping, setStopping] = useState(false);
  // The run this page shows now: an answer for another run (a read started before the
  // page moved from one run to the next) is dropped, and until the new run's first
  // answer the page shows it loading rather than the previous run under the new address.
  const currentId = useRef(id);
  currentId.current = id;
  const run = loaded && String(loaded.id) === id ? loaded : null;

  const load = useCallback(async () => {
    try {
      const r = await api.getRun(id);
      if (currentId.current !== id) return null;
      setRun(r);
      setLoadError(null);
      return r;
    } catch (e) {
      if (currentId.current !== id) return null;
      setLoadError(e instanceof Error ? e : new Error(String(e)));
      return null;
    }
  }, [id]);

  useEffect(() => {
    setRun(null);
    setLoadError(null);
    void load();
  }, [load]);

  const active = run ? !FINAL_RUN_STATES.includes(run.state) : false;
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => void load(), 1000);
    return () => {
      clearInterval(t);
      // The run just ended (or the page changed runs): read it once more shortly, so
      // task states written just after the run's own show too.
      setTimeout(() => void load(), 1500);
    };
  }, [active, load]);

  // The clock for the durations of what is still going.
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setTick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [active]);

  // A run of more than 500 tasks is answered a page of tasks at a time: the task picked
  // (?task=NAME) is read on its own when the page does not hold it, again with each poll.
  const paged = run ? run.tasks_next_offset !== undefined : false;
  const [picked, setPicked] = useState<TaskRun | 'missing' | null>(null);
  useEffect(() => {
    if (!run || !paged || !taskName || run.tasks.some((t) => t.name === taskName)) {
      setPicked(null);
      return;
    }
    let live = true;
    api.getRunTask(run.id, taskName).then(
      (r) => live && setPicked(r.tasks[0] ?? 'missing'),
      () => live && setPicked('missing'),
    );
    return () => {
      live = false;
    };
  }, [run, paged, taskName]);

  const [view, setView] = useState<'graph' | 'timeline'>('graph');
  const selectTask = (name: string | null) => {
    const next = new URLSearchParams(params);
    if (name) next.set('task', name);
    else next.delete('task');
    setParams(next, { replace: true });
  };

  if (loadError && !run) {
    const missing = loadError instanceof ApiError && loadError.status === 404;
    return (
      <Result
        status={missing ? '404' : 'error'}
        title={missing ? 'Run not found' : 'Cannot load the run'}
        subTitle={<span data-testid="run-error">{loadError.message}</span>}
        extra={<Button onClick={() => navigate('/runs')}>Back to runs</Button>}
      />
    );
  }
  if (!run) {
    return (
      <div style={{ display: 'flex', justifyContent: 'center', marginTop: 80 }}>
        <Spin size="large" />
      </div>
    );
  }

  const stop = async () => {
    setStopping(true);
    try {
      setRun(await api.stopRun(run.id));
      message.success(`Run #${run.id} is stopping`);
    } catch (e) {
      message.error(errorText(e));
    } finally {
      setStopping(false);
    }
  };

  const remove = async () => {
    try {
      await api.deleteRun(run.id);
      message.success(`Run #${run.id} deleted`);
      navigate(`/runs?project=${encodeURIComponent(run.project)}&pipeline=${encodeURIComponent(run.pipeline)}`);
    } catch (e) {
      message.error(errorText(e));
    }
  };

  /** Starts a rerun or a retry and goes to the new run. */
  const again = async (how: 'rerun' | 'retry') => {
    try {
      const next = how === 'retry' ? await api.retryRun(run.id) : await api.rerunRun(run.id);
      message.success(`Run #${next.id} started (${how === 'retry' ? 'retrying the failed tasks' : 'a rerun'} of #${run.id})`);
      navigate(`/runs/${next.id}`);
    } catch (e) {
      message.error(errorText(e));
    }
  };

  const onPage = run.tasks.find((t) => t.name === taskName) ?? null;
  const task = onPage ?? (picked && picked !== 'missing' && picked.name === taskName ? picked : null);
  const noSuchTask = taskName && !task && (!paged || picked === 'missing');
  const failedTask = run.tasks.find((t) => t.state === 'failed') ?? null;
  const runsOfPipeline = `/runs?project=${encodeURIComponent(run.project)}&pipeline=${encodeURIComponent(run.pipeline)}`;

  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Breadcrumb
        items={[
          { title: <Link to="/runs">Runs</Link> },
          { title: <Link to={runsOfPipeline}>{run.pipeline}</Link> },
          { title: `#${run.id}` },
        ]}
      />
      <Card
        title={
          <Space>
            <Typography.Title level={4} style={{ margin: 0 }} data-testid="run-title">
              Run #{run.id}
            </Typography.Title>
            <StateTag state={run.state} testId="run-state" />
            {active && run.stop_requested && <Typography.Text type="warning">stopping…</Typography.Text>}
            {active && <LoadingOutlined style={{ color: '#1677ff' }} />}
          </Space>
        }
        extra={
          <Space>
            <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label="Reload run" />
            {active ? (
              <Popconfirm
                title={`Stop run #${run.id}?`}
                description="Running tasks are killed; the rest are marked stopped."
                okText="Stop"
                okButtonProps={{ danger: true }}
                onConfirm={() => stop()}
              >
                <Button danger icon={<StopOutlined />} loading={stopping} data-testid="stop-run">
                  Stop
                </Button>
              </Popconfirm>
            ) : (
              <>
                {(run.state === 'failed' || run.state === 'stopped') && (
                  <Button icon={<RedoOutlined />} onClick={() => void again('retry')} data-testid="retry-run">
                    Retry failed tasks
                  </Button>
                )}
                <Button icon={<ReloadOutlined />} onClick={() => void again('rerun')} data-testid="rerun-run">
                  Re-run
                </Button>
              </>
            )}
            {!active && (
              <Popconfirm
                title={`Delete run #${run.id}?`}
                description="Its logs and artifacts are deleted too."
                okText="Delete"
                okButtonProps={{ danger: true }}
                onConfirm={() => remove()}
              >
                <Button danger icon={<DeleteOutlined />} data-testid="delete-run">
                  Delete
                </Button>
              </Popconfirm>
            )}
          </Space>
        }
      >
        {run.reason && (
          <Alert
            type={run.state === 'failed' ? 'error' : 'info'}
            showIcon
            style={{ marginBottom: 16 }}
            message={<span data-testid="run-reason" style={{ whiteSpace: 'pre-wrap' }}>{run.reason}</span>}
            description={
              failedTask && failedTask.name !== taskName ? (
                <Link to={`/runs/${run.id}?task=${encodeURIComponent(failedTask.name)}`} data-testid="run-failed-task-link">
                  Show {failedTask.name}: its log and details
                </Link>
              ) : undefined
            }
          />
        )}
        <Descriptions column={{ xs: 1, md: 3, xxl: 5 }} size="small" bordered data-testid="run-fields">
          <Descriptions.Item label="Pipeline">
            {run.pipeline_id ? (
              <Link to={`/pipelines/${run.pipeline_id}`} data-testid="run-pipeline">
                {run.pipeline}
              </Link>
            ) : (
              <span data-testid="run-pipeline">{run.pipeline} (deleted)</span>
            )}
          </Descriptions.Item>
          <Descriptions.Item label="Project">{run.project}</Descriptions.Item>
          <Descriptions.Item label="Trigger">
            <span data-testid="run-trigger">{run.trigger}</span>
            {run.schedule_id ? (
              <Link to={`/schedules?project=${encodeURIComponent(run.project)}&pipeline=${encodeURIComponent(run.pipeline)}`}> (schedule)</Link>
            ) : null}
          </Descriptions.Item>
          <Descriptions.Item label="Runner">{run.runner}</Descriptions.Item>
          <Descriptions.Item label="Execution date">{run.execution_date}</Descriptions.Item>
          <Descriptions.Item label="Run key">
            <Typography.Text code copyable style={{ fontSize: 12 }}>
              {run.run_key}
            </Typography.Text>
          </Descriptions.Item>
          <Descriptions.Item label="Created">{fmtTimeSec(run.created_at)}</Descriptions.Item>
          <Descriptions.Item label="Started">{run.started_at ? fmtTimeSec(run.started_at) : none}</Descriptions.Item>
          <Descriptions.Item label="Finished">{run.finished_at ? fmtTimeSec(run.finished_at) : none}</Descriptions.Item>
          <Descriptions.Item label="Duration">{duration(run.started_at, run.finished_at) || none}</Descriptions.Item>
        </Descriptions>
      </Card>
      {noSuchTask && <Alert type="warning" showIcon message={`This run has no task named ${taskName}.`} />}
      {/* The graph and the selected task side by side on a wide screen, one above the other on a narrow one. */}
      <Row gutter={[16, 16]} align="top" data-testid="run-work-area">
        <Col xs={24} lg={task ? 10 : 24}>
          {paged ? (
            <Card size="small" data-testid="run-tasks-card" title="Tasks">
              <BigRunTasks run={run} selected={taskName} onSelect={selectTask} />
            </Card>
          ) : (
            <Card
              size="small"
              data-testid="run-tasks-card"
              tabList={[
                { key: 'graph', tab: <span data-testid="run-tab-graph">Graph</span> },
                { key: 'timeline', tab: <span data-testid="run-tab-timeline">Timeline</span> },
              ]}
              activeTabKey={view}
              onTabChange={(k) => setView(k as 'graph' | 'timeline')}
              tabBarExtraContent={<Typography.Text type="secondary">click a task for its details and log</Typography.Text>}
            >
              {view === 'graph' ? (
                <ReactFlowProvider>
                  <RunDag run={run} selected={taskName} onSelect={selectTask} />
                </ReactFlowProvider>
              ) : (
                <RunTimeline run={run} selected={taskName} onSelect={selectTask} />
              )}
            </Card>
          )}
        </Col>
        {task && (
          <Col xs={24} lg={14}>
            <TaskView key={task.name} run={run} task={task} openTerminal={params.get('terminal') === '1'} />
          </Col>
        )}
      </Row>
    </Space>
  );
}

const BIG_RUN_PAGE = 50;

/**
 * The tasks of a run too big for a graph (more than 500): the count in each state and
 * a table read from the server a page at a time; the first page is the one the page's
 * own poll brings, the others are read when shown and again as the run changes.
 */
function BigRunTasks({ run, selected, onSelect }: { run: Run; selected: string | null; onSelect: (name: string) => void }) {
  const [page, setPage] = useState(1);
  const [rows, setRows] = useState<TaskRun[] | null>(null);
  useEffect(() => {
    if (page === 1) {
      setRows(run.tasks);
      return;
    }
    let live = true;
    api.getRunPage(run.id, (page - 1) * BIG_RUN_PAGE, BIG_RUN_PAGE).then(
      (r) => live && setRows(r.tasks),
      () => live && setRows([]),
    );
    return () => {
      live = false;
    };
  }, [run, page]);
  return (
    <div data-testid="run-big">
      <Typography.Paragraph type="secondary">
        This run has {run.task_count} tasks, listed {BIG_RUN_PAGE} at a time; the graph and the timeline show runs of up
        to 500 tasks.
      </Typography.Paragraph>
      <Space wrap style={{ marginBottom: 12 }} data-testid="run-task-counts">
        {Object.entries(run.task_states ?? {}).map(([state, n]) => (
          <span key={state} data-testid={`run-count-${state}`}>
            <StateTag state={state} /> {n}
          </span>
        ))}
      </Space>
      <Table<TaskRun>
        size="small"
        rowKey="name"
        dataSource={rows ?? []}
        loading={rows === null}
        pagination={{ current: page, pageSize: BIG_RUN_PAGE, total: run.task_count, showSizeChanger: false, onChange: setPage }}
        onRow={(t) => ({ onClick: () => onSelect(t.name), style: { cursor: 'pointer' } })}
        rowClassName={(t) => (t.name === selected ? 'ant-table-row-selected' : '')}
        columns={[
          { title: 'Task', dataIndex: 'name', render: (n: string) => <span data-testid={`big-run-task-${n}`}>{n}</span> },
          { title: 'State', dataIndex: 'state', render: (s: string) => <StateTag state={s} /> },
          { title: 'Attempt', key: 'attempt', render: (_: unknown, t) => (t.attempt ? `${t.attempt}/${t.max_attempts}` : none) },
          { title: 'Duration', key: 'duration', render: (_: unknown, t) => duration(t.started_at, t.finished_at) || none },
        ]}
      />
    </div>
  );
}

/** Milliseconds of an RFC 3339 time; null when absent. */
function msOf(t: string | null | undefined): number | null {
  return t ? Date.parse(t) : null;
}

/**
 * A Gantt view of the run: each task that started as a bar from its start to its end (or
 * now, while it runs) on the run's time axis, in start order, colored by state, with its
 * duration; tasks that never started are listed at the end.
 */
function RunTimeline({ run, selected, onSelect }: { run: Run; selected: string | null; onSelect: (name: string) => void }) {
  const now = Date.now();
  const started = run.tasks
    .filter((t) => t.started_at)
    .sort((a, b) => (msOf(a.started_at) ?? 0) - (msOf(b.started_at) ?? 0));
  const origin = msOf(run.started_at) ?? (started.length ? msOf(started[0].started_at)! : now);
  const end = Math.max(origin + 1, msOf(run.finished_at) ?? now, ...started.map((t) => msOf(t.finished_at) ?? now));
  const span = end - origin;
  const never = run.tasks.filter((t) => !t.started_at);
  return (
    <div data-testid="run-timeline" style={{ maxHeight: 560, overflow: 'auto' }}>
      <Typography.Text type="secondary" style={{ display: 'block', marginBottom: 8 }}>
        0 to {fmtSeconds(Math.round(span / 100) / 10)} from the run's start
      </Typography.Text>
      {started.map((t) => {
        const from = (msOf(t.started_at)! - origin) / span;
        const to = ((msOf(t.finished_at) ?? now) - origin) / span;
        const width = Math.max(0.004, to - from);
        return (
          <div
            key={t.name}
            data-testid={`timeline-row-${t.name}`}
            onClick={() => onSelect(t.name)}
            style={{ display: 'flex', alignItems: 'center', gap: 8, cursor: 'pointer', padding: '2px 0', background: t.name === selected ? '#e6f4ff' : undefined }}
          >
            <Typography.Text ellipsis style={{ width: 120, flex: 'none', fontFamily: MONO, fontSize: 12 }}>
              {t.name}
            </Typography.Text>
            <div style={{ position: 'relative', flex: 1, height: 14, background: '#fafafa' }}>
              <div
                data-testid={`timeline-bar-${t.name}`}
                data-from={from.toFixed(4)}
                data-width={width.toFixed(4)}
                title={`${t.name}: ${t.state}, ${duration(t.started_at, t.finished_at) || 'running'}`}
                style={{
                  position: 'absolute',
                  left: `${(from * 100).toFixed(2)}%`,
                  width: `${(width * 100).toFixed(2)}%`,
                  top: 2,
                  bottom: 2,
                  borderRadius: 3,
                  background: TIMELINE_COLORS[t.state] ?? '#8c8c8c',
                }}
              />
            </div>
            <Typography.Text type="secondary" style={{ width: 70, flex: 'none', fontSize: 12, textAlign: 'right' }}>
              {duration(t.started_at, t.finished_at) || 'running'}
            </Typography.Text>
          </div>
        );
      })}
      {never.length > 0 && (
        <Typography.Text type="secondary" style={{ display: 'block', marginTop: 8 }} data-testid="timeline-never">
          never started: {never.map((t) => `${t.name} (${t.state})`).join(', ')}
        </Typography.Text>
      )}
    </div>
  );
}

const TIMELINE_COLORS: Record<string, string> = {
  succeeded: '#52c41a',
  failed: '#ff4d4f',
  running: '#1677ff',
  stopped: '#faad14',
};

function RunDag({ run, selected, onSelect }: { run: Run; selected: string | null; onSelect: (name: string | null) => void }) {
  const structure = run.tasks.map((t) => `${t.name}<${(t.depends_on ?? []).join(',')}`).join(';');
  const positions = useMemo(() => {
    const ids = run.tasks.map((t) => t.name);
    const edges = run.tasks.flatMap((t) => (t.depends_on ?? []).map((d) => ({ source: d, target: t.name })));
    const auto = layeredLayout(ids, edges);
    // Where the editor of this pipeline has positions for the same tasks, use them.
    const stored = run.pipeline_id ? loadPositions(run.pipeline_id) : {};
    const all = ids.every((n) => stored[n]);
    return new Map(ids.map((n) => [n, all ? stored[n] : auto.get(n)!]));
  }, [structure, run.pipeline_id]);

  // Nodes live in state so React Flow's measured sizes survive each refresh
  // (new node objects without them would be hidden until measured again).
  const [measured, setMeasured] = useState<RunNode[]>([]);
  const onNodesChange = useCallback(
    (changes: NodeChange<RunNode>[]) => setMeasured((prev) => applyNodeChanges(changes, prev)),
    [],
  );
  const previous = new Map(measured.map((n) => [n.id, n]));
  const nodes: RunNode[] = run.tasks.map((t) => ({
    ...previous.get(t.name),
    id: t.name,
    type: 'run-task',
    position: positions.get(t.name) ?? { x: 0, y: 0 },
    selected: t.name === selected,
    draggable: false,
    connectable: false,
    data: { name: t.name, label: t.label, template: t.template, state: t.state, attempt: t.attempt, maxAttempts: t.max_attempts },
  }));
  const nodesKey = nodes.map((n) => n.id).join(',');
  useEffect(() => {
    setMeasured((prev) => {
      const byId = new Map(prev.map((n) => [n.id, n]));
      return nodes.map((n) => ({ ...n, measured: byId.get(n.id)?.measured ?? n.measured }));
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [nodesKey]);
  const edges: Edge[] = run.tasks.flatMap((t) =>
    (t.depends_on ?? []).map((d) => ({
      id: `${d}->${t.name}`,
      source: d,
      target: t.name,
      type: 'routed',
      animated: t.state === 'running' || (t.state === 'pending' && run.tasks.find((u) => u.name === d)?.state === 'succeeded' && run.state === 'running'),
      markerEnd: { type: MarkerType.ArrowClosed },
    })),
  );
  const rows = new Set([...positions.values()].map((p) => p.y)).size;

  return (
    <div style={{ height: Math.min(560, Math.max(260, 140 * rows + 60)) }} data-testid="run-dag">
      <ReactFlow<RunNode, Edge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onNodesChange={onNodesChange}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        deleteKeyCode={null}
        onNodeClick={(_, n) => onSelect(n.id)}
        onPaneClick={() => onSelect(null)}
        fitView
        fitViewOptions={{ maxZoom: 1 }}
        minZoom={0.2}
      >
        <Background gap={16} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}

/** The "pod view" of one task: where and how it ran, its attempts, outputs and log. */
function TaskView({ run, task, openTerminal = false }: { run: Run; task: TaskRun; openTerminal?: boolean }) {
  const attempts = task.attempts ?? [];
  const { me } = useAuth();
  const [terminal, setTerminal] = useState(false);
  const [saving, setSaving] = useState(false);
  // A terminal acts as the user the task runs as (the runner): theirs, or an admin's.
  const mayTerminal = task.state === 'running' && (me?.user.username === run.runner || !!me?.user.admin);
  // ?terminal=1 (a debug run with a shell): the terminal opens once the task runs.
  const opened = useRef(false);
  useEffect(() => {
    if (openTerminal && mayTerminal && !opened.current) {
      opened.current = true;
      setTerminal(true);
    }
  }, [openTerminal, mayTerminal]);
  const outputs = task.outputs && Object.keys(task.outputs).length > 0 ? JSON.stringify(task.outputs, null, 2) : '';
  // A task just picked is brought into view (below the graph on a narrow screen).
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const top = ref.current?.getBoundingClientRect().top ?? 0;
    if (top > window.innerHeight - 120) ref.current?.scrollIntoView({ block: 'start', behavior: 'smooth' });
  }, []);
  return (
    <Card
      ref={ref}
      data-testid="task-view"
      title={
        <Space>
          <Typography.Title level={5} style={{ margin: 0 }} data-testid="task-view-name">
            {task.label ? `${task.label} (${task.name})` : task.name}
          </Typography.Title>
          <StateTag state={task.state} testId="task-state" />
          {task.max_attempts > 1 && task.attempt > 0 && (
            <Typography.Text type="secondary">
              attempt {task.attempt} of {task.max_attempts}
            </Typography.Text>
          )}
        </Space>
      }
      extra={
        task.state === 'running' && (
          <Space size={4}>
            <Tooltip title={mayTerminal ? 'A shell inside the running task' : `Only ${run.runner}, whom it runs as, or an admin`}>
              <Button size="small" icon={<CodeOutlined />} disabled={!mayTerminal} onClick={() => setTerminal(true)} data-testid="task-terminal">
                Terminal
              </Button>
            </Tooltip>
            <Tooltip title="Save the task's filesystem as it is now as an image (a container engine commits it): what you installed in its terminal">
              <Button size="small" icon={<SaveOutlined />} disabled={!mayTerminal || !task.workload} onClick={() => setSaving(true)} data-testid="task-save-image">
                Save as image
              </Button>
            </Tooltip>
          </Space>
        )
      }
    >
      {saving && (
        <NewBuildModal
          open={saving}
          filterProject={run.project}
          onClose={() => setSaving(false)}
          commit={{ project: run.project, workload: task.workload, name: `${task.name}-image`.slice(0, 60) }}
        />
      )}
      <TerminalDrawer
        title={`Terminal in ${task.name} of run #${run.id}`}
        path={terminal ? `/runs/${run.id}/tasks/${encodeURIComponent(task.name)}/terminal` : null}
        onClose={() => setTerminal(false)}
      />
      {task.reason && (
        <Alert
          type={['failed', 'upstream_failed'].includes(task.state) ? 'error' : 'info'}
          showIcon
          style={{ marginBottom: 16 }}
          message={<span data-testid="task-reason" style={{ whiteSpace: 'pre-wrap' }}>{task.reason}</span>}
        />
      )}
      <Descriptions column={{ xs: 1, md: 3 }} size="small" bordered data-testid="task-fields">
        <Descriptions.Item label="Template">{task.template}</Descriptions.Item>
        <Descriptions.Item label="Runtime">{task.runtime || none}</Descriptions.Item>
        <Descriptions.Item label="Node">{task.node || none}</Descriptions.Item>
        <Descriptions.Item label="Workload" span={2}>
          {task.workload ? <Typography.Text code copyable data-testid="task-workload">{task.workload}</Typography.Text> : none}
        </Descriptions.Item>
        <Descriptions.Item label="Image">{task.image ? <Typography.Text code>{task.image}</Typography.Text> : none}</Descriptions.Item>
        <Descriptions.Item label="Command" span={3}>
          {task.argv?.length ? (
            <pre style={pre} data-testid="task-argv">
              {task.argv.map(shellQuote).join(' ')}
            </pre>
          ) : (
            none
          )}
        </Descriptions.Item>
        <Descriptions.Item label="Resources">{resourcesText(task.resources)}</Descriptions.Item>
        <Descriptions.Item label="Timeout">{task.timeout ? fmtSeconds(task.timeout) : 'none'}</Descriptions.Item>
        <Descriptions.Item label="Depends on">{task.depends_on?.length ? task.depends_on.join(', ') : none}</Descriptions.Item>
        <Descriptions.Item label="Ready">{task.ready_at ? fmtTimeSec(task.ready_at) : none}</Descriptions.Item>
        <Descriptions.Item label="Started">{task.started_at ? fmtTimeSec(task.started_at) : none}</Descriptions.Item>
        <Descriptions.Item label="Finished">{task.finished_at ? fmtTimeSec(task.finished_at) : none}</Descriptions.Item>
        <Descriptions.Item label="Duration">{duration(task.started_at, task.finished_at) || none}</Descriptions.Item>
        <Descriptions.Item label="Exit code">
          <span data-testid="task-exit-code">{task.exit_code ?? '—'}</span>
        </Descriptions.Item>
        <Descriptions.Item label="OOM killed">
          {task.oom_killed ? <Typography.Text type="danger">yes</Typography.Text> : 'no'}
        </Descriptions.Item>
        <Descriptions.Item label="Peak memory">{task.peak_memory_bytes ? fmtBytes(task.peak_memory_bytes) : none}</Descriptions.Item>
        <Descriptions.Item label="Outputs" span={3}>
          {outputs ? (
            <pre style={pre} data-testid="task-outputs">
              {outputs}
            </pre>
          ) : (
            none
          )}
        </Descriptions.Item>
      </Descriptions>
      {attempts.length > 0 && (
        <Table<TaskAttempt>
          style={{ marginTop: 16 }}
          size="small"
          rowKey="attempt"
          data-testid="task-attempts"
          pagination={false}
          scroll={{ x: 'max-content' }}
          dataSource={attempts}
          columns={[
            { title: 'Attempt', dataIndex: 'attempt' },
            { title: 'State', dataIndex: 'state', render: (s: string) => <StateTag state={s} /> },
            { title: 'Exit code', dataIndex: 'exit_code', render: (c: number | null) => c ?? '—' },
            { title: 'Reason', dataIndex: 'reason', render: (r: string) => r || none },
            { title: 'Workload', dataIndex: 'workload', render: (w: string) => (w ? <Typography.Text code>{w}</Typography.Text> : none) },
            { title: 'Node', dataIndex: 'node' },
            { title: 'Started', dataIndex: 'started_at', render: (t: string | null) => (t ? fmtTimeSec(t) : none) },
            { title: 'Duration', key: 'duration', render: (_: unknown, a) => duration(a.started_at, a.finished_at) || none },
          ]}
        />
      )}
      <TaskLog run={run} task={task} />
      {task.attempt > 0 && (
        <Artifacts base={api.taskArtifactsBase(run.id, task.name)} refresh={`${task.state}/${task.attempt}`} testId="task-artifacts" />
      )}
    </Card>
  );
}

/** The task's own resource settings; what it does not set comes from its template. */
function resourcesText(r: TaskRun['resources']): string {
  const parts: string[] = [];
  if (r?.cpu !== undefined) parts.push(`cpu ${r.cpu}`);
  if (r?.memory_bytes !== undefined) parts.push(`memory ${fmtBytes(r.memory_bytes)}`);
  else if (r?.memory !== undefined) parts.push(`memory ${r.memory}`);
  if (r?.gpu !== undefined) parts.push(`gpu ${r.gpu}`);
  return parts.length > 0 ? `${parts.join(', ')} (the rest: the template's)` : "the template's";
}


/**
 * The log of one attempt of a task, read with `fetch` from
 * GET /runs/{id}/tasks/{task}/logs?follow=1&attempt=N as a stream. It follows the newest
 * attempt unless one is picked; when the stream ends while that attempt is still running,
 * it follows again.
 */
function TaskLog({ run, task }: { run: Run; task: TaskRun }) {
  const [picked, setPicked] = useState<number | null>(null);
  const attempt = picked ?? task.attempt;
  const attemptInfo = (task.attempts ?? []).find((a) => a.attempt === attempt);
  const attemptState = attemptInfo?.state ?? (attempt === task.attempt ? task.state : 'succeeded');
  const attemptOver = FINAL_TASK_STATES.includes(attemptState) || FINAL_RUN_STATES.includes(run.state);

  const [log, setLog] = useState('');
  const { shown, tools } = useLogTools(log, `run-${run.id}-${task.name}-attempt-${attempt}.log`, 'task-log-tools');
  const [trimmed, setTrimmed] = useState(false);
  const [streaming, setStreaming] = useState(false);
  const [ended, setEnded] = useState(false);
  const [streamError, setStreamError] = useState<string | null>(null);
  const [again, setAgain] = useState(0);
  const preRef = useRef<HTMLPreElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    setLog('');
    setTrimmed(false);
    setEnded(false);
    setStreamError(null);
    if (attempt < 1) {
      setStreaming(false);
      return;
    }
    const ctrl = new AbortController();
    setStreaming(true);
    api
      .followTaskLog(
        run.id,
        task.name,
        attempt,
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
  }, [run.id, task.name, attempt, again]);

  // The stream ended but the attempt is still going (e.g. the connection was cut): follow again.
  useEffect(() => {
    if (!ended || attemptOver) return;
    const t = setTimeout(() => setAgain((n) => n + 1), 2000);
    return () => clearTimeout(t);
  }, [ended, attemptOver]);

  useLayoutEffect(() => {
    const el = preRef.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [log]);

  let status: ReactNode = null;
  if (attempt < 1) {
    status = FINAL_TASK_STATES.includes(task.state) || FINAL_RUN_STATES.includes(run.state) ? (
      <Typography.Text type="secondary" data-testid="task-log-none">
        the task did not run
      </Typography.Text>
    ) : (
      <Typography.Text type="secondary" data-testid="task-log-waiting">
        <LoadingOutlined /> waiting for the task to start…
      </Typography.Text>
    );
  } else if (streaming) {
    status = (
      <Typography.Text type="secondary" data-testid="task-log-live">
        <LoadingOutlined /> live
      </Typography.Text>
    );
  } else if (ended && attemptOver) {
    status = (
      <Typography.Text type="secondary" data-testid="task-log-ended">
        end of log
      </Typography.Text>
    );
  }

  const attemptOptions = Array.from({ length: Math.max(task.attempt, 0) }, (_, i) => i + 1).map((n) => ({
    value: n,
    label: `attempt ${n}${n === task.attempt ? ' (latest)' : ''}`,
  }));

  return (
    <div style={{ marginTop: 16 }}>
      <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 8 }}>
        <Space>
          <Typography.Text strong>Log</Typography.Text>
          {attemptOptions.length > 0 && (
            <Select
              size="small"
              data-testid="task-log-attempt"
              value={attempt}
              style={{ minWidth: 160 }}
              options={attemptOptions}
              onChange={(v: number) => setPicked(v === task.attempt ? null : v)}
            />
          )}
        </Space>
        <Space>
          {status}
          {!streaming && attempt >= 1 && (
            <Button size="small" icon={<ReloadOutlined />} onClick={() => setAgain((n) => n + 1)} data-testid="task-log-reload">
              Reload log
            </Button>
          )}
        </Space>
      </Space>
      {streamError && <Alert type="error" showIcon role="alert" style={{ marginBottom: 12 }} message={streamError} data-testid="task-log-error" />}
      {trimmed && (
        <Typography.Text type="secondary" style={{ display: 'block', marginBottom: 8 }}>
          Earlier output is not shown (the log is longer than the page keeps).
        </Typography.Text>
      )}
      {attempt < 1 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="No log yet" />
      ) : (
        <>
        <div style={{ margin: '8px 0' }}>{tools}</div>
        <pre
          ref={preRef}
          data-testid="task-log"
          aria-label={`Log of ${task.name}, attempt ${attempt}`}
          onScroll={(e) => {
            const el = e.currentTarget;
            stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
          }}
          style={{ ...CODE_BLOCK_STYLE, minHeight: 120, maxHeight: 520 }}
        >
          {shown}
        </pre>
        </>
      )}
    </div>
  );
}

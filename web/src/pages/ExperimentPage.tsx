import {
  Alert,
  App,
  Breadcrumb,
  Button,
  Card,
  Col,
  Descriptions,
  Empty,
  Input,
  Modal,
  Popconfirm,
  Result,
  Row,
  Select,
  Space,
  Spin,
  Table,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import { DeleteOutlined, LoadingOutlined, ReloadOutlined, StopOutlined, TrophyOutlined } from '@ant-design/icons';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type HTMLAttributes, type ReactNode } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import {
  api,
  ApiError,
  errorText,
  FINAL_EXPERIMENT_STATES,
  FINAL_TRIAL_STATES,
  TRIAL_STATES,
  type Experiment,
  type Trial,
} from '../api';
import { Artifacts } from '../components/Artifacts';
import LineChart, { fmtNumber, PALETTE, type ChartSeries } from '../components/LineChart';
import { MONO } from '../components/images';
import { CODE_BLOCK_STYLE } from '../components/SideDrawer';
import { duration, fmtSeconds, fmtTimeSec, shellQuote, StateTag } from '../components/pipelines';
import { useLogTools } from '../components/LogTools';

const none = <Typography.Text type="secondary">—</Typography.Text>;
const MAX_LOG_CHARS = 4 * 1024 * 1024;
const pre = { margin: 0, fontFamily: MONO, whiteSpace: 'pre-wrap' as const, wordBreak: 'break-all' as const };

/** A parameter value as text: numbers and strings as they are, anything else as compact JSON. */
export function paramValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Parameters as `k=v, k=v`. */
export function paramsText(p: Record<string, unknown> | null | undefined): string {
  return Object.entries(p ?? {})
    .map(([k, v]) => `${k}=${paramValue(v)}`)
    .join(', ');
}

/** A search space with one parameter a line. */
function searchSpaceText(v: unknown): string {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return JSON.stringify(v);
  const lines = Object.entries(v as Record<string, unknown>).map(([k, d]) => `  ${JSON.stringify(k)}: ${JSON.stringify(d)}`);
  return lines.length ? `{\n${lines.join(',\n')}\n}` : '{}';
}

/** Whether `a` is better than `b` for the objective. */
const better = (objective: string, a: number, b: number) => (objective === 'minimize' ? a < b : a > b);

/** The best final value so far after each trial (by sequence) that has one. */
export function bestSoFar(trials: Trial[], objective: string): { x: number; y: number }[] {
  const out: { x: number; y: number }[] = [];
  let best: number | null = null;
  for (const t of [...trials].sort((a, b) => a.sequence - b.sequence)) {
    if (t.value === null || t.value === undefined || !Number.isFinite(t.value)) continue;
    if (best === null || better(objective, t.value, best)) best = t.value;
    out.push({ x: t.sequence, y: best });
  }
  return out;
}

/**
 * One experiment: its overview (key, state, trial counts, best trial, tuner and limits,
 * Stop/Delete), the charts of every trial's intermediate values and of the best value so
 * far, and the trial table, whose rows open (?trial=SEQ) to the trial's own chart and
 * live log. Re-read every 2 s while the experiment is pending or running.
 */
export default function ExperimentPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const [params, setParams] = useSearchParams();
  const trialParam = params.get('trial');
  const openSeq = trialParam !== null && /^\d+$/.test(trialParam) ? Number(trialParam) : null;
  const [exp, setExp] = useState<Experiment | null>(null);
  const [trials, setTrials] = useState<Trial[]>([]);
  const [loadError, setLoadError] = useState<Error | null>(null);
  const [stopping, setStopping] = useState(false);

  const load = useCallback(async () => {
    try {
      // Both at once; when both fail, the experiment's own error is the one to show.
      const [x, t] = await Promise.allSettled([api.getExperiment(id), api.listTrials(id, true)]);
      if (x.status === 'rejected') throw x.reason;
      if (t.status === 'rejected') throw t.reason;
      setExp(x.value);
      setTrials(t.value.items ?? []);
      setLoadError(null);
    } catch (e) {
      setLoadError(e instanceof Error ? e : new Error(String(e)));
    }
  }, [id]);

  useEffect(() => {
    setExp(null);
    setTrials([]);
    setLoadError(null);
    void load();
  }, [load]);

  const active = exp ? !FINAL_EXPERIMENT_STATES.includes(exp.state) : false;
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => void load(), 2000);
    return () => {
      clearInterval(t);
      // It just ended: read once more shortly, for what was written just after.
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

  const sorted = useMemo(() => [...trials].sort((a, b) => a.sequence - b.sequence), [trials]);
  const colorOf = useCallback((seq: number) => PALETTE[seq % PALETTE.length], []);
  const intermediateSeries: ChartSeries[] = useMemo(
    () =>
      sorted
        .filter((t) => (t.intermediate ?? []).length > 0)
        .map((t) => ({
          name: `#${t.sequence} ${t.trial_id}`,
          color: colorOf(t.sequence),
          points: (t.intermediate ?? []).map((p) => ({ x: p.step, y: p.value })),
        })),
    [sorted, colorOf],
  );
  const objective = exp?.objective ?? 'maximize';
  const bestSeries: ChartSeries[] = useMemo(
    () => [
      { name: `best so far (${objective === 'minimize' ? 'min' : 'max'})`, points: bestSoFar(sorted, objective), step: true, color: '#1677ff' },
      {
        name: 'final value',
        dotsOnly: true,
        color: '#fa8c16',
        points: sorted.filter((t) => t.value !== null && t.value !== undefined).map((t) => ({ x: t.sequence, y: t.value as number })),
      },
    ],
    [sorted, objective],
  );

  if (loadError && !exp) {
    const missing = loadError instanceof ApiError && loadError.status === 404;
    return (
      <Result
        status={missing ? '404' : 'error'}
        title={missing ? 'Experiment not found' : 'Cannot load the experiment'}
        subTitle={<span data-testid="experiment-error">{loadError.message}</span>}
        extra={<Button onClick={() => navigate('/experiments')}>Back to experiments</Button>}
      />
    );
  }
  if (!exp) {
    return (
      <div style={{ display: 'flex', justifyContent: 'center', marginTop: 80 }}>
        <Spin size="large" />
      </div>
    );
  }

  const stop = async () => {
    setStopping(true);
    try {
      setExp(await api.stopExperiment(exp.id));
      message.success(`Experiment ${exp.name} is stopping`);
      void load();
    } catch (e) {
      message.error(errorText(e));
    } finally {
      setStopping(false);
    }
  };

  const remove = async () => {
    try {
      await api.deleteExperiment(exp.id);
      message.success(`Experiment ${exp.name} deleted`);
      navigate(`/experiments?project=${encodeURIComponent(exp.project)}`);
    } catch (e) {
      message.error(errorText(e));
    }
  };

  const toggleTrial = (seq: number) => {
    const next = new URLSearchParams(params);
    if (openSeq === seq) next.delete('trial');
    else next.set('trial', String(seq));
    setParams(next, { replace: true });
  };

  const counts = exp.trials ?? { total: 0 };
  const spec = exp.spec ?? {};
  const command = spec.command;
  const best = exp.best;

  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Breadcrumb
        items={[
          { title: <Link to="/experiments">Experiments</Link> },
          { title: <Link to={`/experiments?project=${encodeURIComponent(exp.project)}`}>{exp.project}</Link> },
          { title: exp.name },
        ]}
      />
      <Card
        title={
          <Space>
            <Typography.Title level={4} style={{ margin: 0 }} data-testid="experiment-title">
              {exp.name}
            </Typography.Title>
            <StateTag state={exp.state} testId="experiment-state" />
            {active && exp.stop_requested && <Typography.Text type="warning">stopping…</Typography.Text>}
            {active && <LoadingOutlined style={{ color: '#1677ff' }} />}
          </Space>
        }
        extra={
          <Space>
            <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label="Reload experiment" />
            {active && (
              <Popconfirm
                title={`Stop experiment ${exp.name}?`}
                description="Running trials are killed; no new trials start."
                okText="Stop"
                okButtonProps={{ danger: true }}
                onConfirm={() => stop()}
              >
                <Button danger icon={<StopOutlined />} loading={stopping} data-testid="stop-experiment">
                  Stop
                </Button>
              </Popconfirm>
            )}
            <Popconfirm
              title={`Delete experiment ${exp.name}?`}
              description="Its trials (and their logs) are deleted too; running ones are stopped."
              okText="Delete"
              okButtonProps={{ danger: true }}
              onConfirm={() => remove()}
            >
              <Button danger icon={<DeleteOutlined />} data-testid="delete-experiment">
                Delete
              </Button>
            </Popconfirm>
          </Space>
        }
      >
        {exp.reason && (
          <Alert
            type={exp.state === 'failed' ? 'error' : 'info'}
            showIcon
            style={{ marginBottom: 16 }}
            message={<span data-testid="experiment-reason" style={{ whiteSpace: 'pre-wrap' }}>{exp.reason}</span>}
          />
        )}
        <Descriptions column={{ xs: 1, md: 3 }} size="small" bordered data-testid="experiment-fields">
          <Descriptions.Item label="id">
            <Typography.Text code copyable={{ text: exp.key }} data-testid="experiment-key">
              {exp.key}
            </Typography.Text>
          </Descriptions.Item>
          <Descriptions.Item label="Project">{exp.project}</Descriptions.Item>
          <Descriptions.Item label="Created by">{exp.created_by}</Descriptions.Item>
          {exp.describe && (
            <Descriptions.Item label="Description" span={3}>
              {exp.describe}
            </Descriptions.Item>
          )}
          <Descriptions.Item label="Trials" span={3}>
            <Space wrap size={4} data-testid="experiment-trial-counts">
              <span>
                <span data-testid="trial-count-total">{counts.total ?? 0}</span>
                {exp.max_trials ? ` of ${exp.max_trials}` : ''} in all:
              </span>
              {TRIAL_STATES.filter((s) => (counts[s] ?? 0) > 0 || s === 'succeeded').map((s) => (
                <Tag key={s} color={s === 'succeeded' ? 'success' : s === 'failed' ? 'error' : s === 'running' ? 'processing' : 'default'}>
                  {s} <span data-testid={`trial-count-${s}`}>{counts[s] ?? 0}</span>
                </Tag>
              ))}
            </Space>
          </Descriptions.Item>
          <Descriptions.Item
            label={
              <Space size={4}>
                <TrophyOutlined />
                Best trial
              </Space>
            }
            span={3}
          >
            {best ? (
              <Space wrap data-testid="experiment-best">
                <Link to={`?trial=${best.sequence}`} replace data-testid="experiment-best-trial">
                  #{best.sequence} {best.trial_id}
                </Link>
                <span>
                  {exp.objective === 'minimize' ? 'min' : 'max'}{' '}
                  <Tooltip title={String(best.value)}>
                    <Typography.Text strong data-testid="experiment-best-value" data-value={best.value}>
                      {fmtNumber(best.value)}
                    </Typography.Text>
                  </Tooltip>
                </span>
                <Typography.Text code style={{ fontFamily: MONO }} data-testid="experiment-best-params">
                  {paramsText(best.parameters)}
                </Typography.Text>
              </Space>
            ) : (
              <Typography.Text type="secondary" data-testid="experiment-best-none">
                no final value yet
              </Typography.Text>
            )}
          </Descriptions.Item>
          <Descriptions.Item label="Tuner">
            <span data-testid="experiment-tuner">{exp.tuner}</span>
            {spec.tuner_args && Object.keys(spec.tuner_args).length > 0 && (
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {' '}
                {JSON.stringify(spec.tuner_args)}
              </Typography.Text>
            )}
          </Descriptions.Item>
          <Descriptions.Item label="Assessor">{exp.assessor || 'none'}</Descriptions.Item>
          <Descriptions.Item label="Objective">
            <span data-testid="experiment-objective">{exp.objective}</span>
          </Descriptions.Item>
          <Descriptions.Item label="Max trials">{exp.max_trials || 'no limit'}</Descriptions.Item>
          <Descriptions.Item label="Parallelism">{exp.parallelism}</Descriptions.Item>
          <Descriptions.Item label="Max duration">{exp.max_duration ? fmtSeconds(exp.max_duration) : 'none'}</Descriptions.Item>
          {spec.image !== undefined && (
            <Descriptions.Item label="Image">
              <Typography.Text code>{String(spec.image)}</Typography.Text>
            </Descriptions.Item>
          )}
          {command !== undefined && (
            <Descriptions.Item label="Command" span={2}>
              <Typography.Text code style={{ fontFamily: MONO }}>
                {Array.isArray(command) ? command.map(shellQuote).join(' ') : String(command)}
              </Typography.Text>
            </Descriptions.Item>
          )}
          <Descriptions.Item label="Created">{fmtTimeSec(exp.created_at)}</Descriptions.Item>
          <Descriptions.Item label="Started">{exp.started_at ? fmtTimeSec(exp.started_at) : none}</Descriptions.Item>
          <Descriptions.Item label="Finished">{exp.finished_at ? fmtTimeSec(exp.finished_at) : none}</Descriptions.Item>
          <Descriptions.Item label="Duration">{duration(exp.started_at, exp.finished_at) || none}</Descriptions.Item>
          {spec.search_space !== undefined && (
            <Descriptions.Item label="Search space" span={3}>
              <pre style={{ ...pre, fontSize: 12 }} data-testid="experiment-search-space">
                {searchSpaceText(spec.search_space)}
              </pre>
            </Descriptions.Item>
          )}
        </Descriptions>
      </Card>
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={12}>
          <Card title="Intermediate values" size="small">
            <LineChart
              testId="chart-intermediate"
              series={intermediateSeries}
              xLabel="step"
              yLabel="value"
              integerX
              legend
              empty="No intermediate values reported yet"
            />
          </Card>
        </Col>
        <Col xs={24} xl={12}>
          <Card title="Best value so far" size="small">
            <LineChart
              testId="chart-best"
              series={bestSeries}
              xLabel="trial"
              yLabel={exp.objective === 'minimize' ? 'min value' : 'max value'}
              integerX
              legend
              empty="No final values reported yet"
            />
          </Card>
        </Col>
      </Row>
      <Card title="Trials" size="small" extra={<Typography.Text type="secondary">click a trial for its chart and log</Typography.Text>}>
        <Table<Trial>
          data-testid="trials-table"
          size="small"
          rowKey="sequence"
          dataSource={sorted}
          pagination={{ hideOnSinglePage: true, pageSize: 100 }}
          onRow={(t) =>
            ({
              'data-testid': `trial-row-${t.sequence}`,
              'data-state': t.state,
              style: { cursor: 'pointer' },
              onClick: () => toggleTrial(t.sequence),
            }) as HTMLAttributes<HTMLElement>
          }
          expandable={{
            expandedRowKeys: openSeq !== null ? [openSeq] : [],
            onExpand: (_, t) => toggleTrial(t.sequence),
            // The table keeps a closed row's content (hidden); render none, so its log stream ends.
            expandedRowRender: (t) => (openSeq === t.sequence ? <TrialView exp={exp} trial={t} color={colorOf(t.sequence)} /> : null),
          }}
          columns={[
            {
              title: '#',
              dataIndex: 'sequence',
              render: (s: number) => (
                <Space size={6}>
                  <span style={{ width: 10, height: 10, borderRadius: 5, background: colorOf(s), display: 'inline-block' }} />
                  {s}
                </Space>
              ),
            },
            {
              title: 'Trial',
              dataIndex: 'trial_id',
              render: (v: string, t) => (
                <Space size={4}>
                  <Typography.Text code>{v}</Typography.Text>
                  {best && best.sequence === t.sequence && (
                    <Tooltip title="best trial">
                      <TrophyOutlined style={{ color: '#faad14' }} data-testid={`trial-best-${t.sequence}`} />
                    </Tooltip>
                  )}
                </Space>
              ),
            },
            { title: 'State', dataIndex: 'state', render: (s: string, t) => <StateTag state={s} testId={`trial-state-${t.sequence}`} /> },
            {
              title: 'Parameters',
              dataIndex: 'parameters',
              render: (p: Record<string, unknown>, t) => (
                <span style={{ fontFamily: MONO, fontSize: 12 }} data-testid={`trial-params-${t.sequence}`}>
                  {paramsText(p)}
                </span>
              ),
            },
            {
              title: 'Final value',
              dataIndex: 'value',
              render: (v: number | null, t) =>
                v === null || v === undefined ? (
                  <span data-testid={`trial-value-${t.sequence}`}>{none}</span>
                ) : (
                  <Tooltip title={String(v)}>
                    <span data-testid={`trial-value-${t.sequence}`} data-value={v}>
                      {fmtNumber(v)}
                    </span>
                  </Tooltip>
                ),
            },
            {
              title: 'Intermediate',
              dataIndex: 'intermediate_count',
              render: (n: number, t) => (
                <Space size={4}>
                  <span data-testid={`trial-intermediate-${t.sequence}`}>{n ?? 0}</span>
                  {t.latest !== null && t.latest !== undefined && n > 0 && (
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      (latest {fmtNumber(t.latest)})
                    </Typography.Text>
                  )}
                </Space>
              ),
            },
            { title: 'Started', dataIndex: 'started_at', render: (v: string | null) => (v ? fmtTimeSec(v) : none) },
            { title: 'Finished', dataIndex: 'finished_at', render: (v: string | null) => (v ? fmtTimeSec(v) : none) },
            { title: 'Duration', key: 'duration', render: (_: unknown, t) => duration(t.started_at, t.finished_at) || none },
          ]}
        />
      </Card>
    </Space>
  );
}

const FRAMEWORKS = ['sklearn', 'pytorch', 'onnx', 'tensorflow', 'xgboost', 'custom'];

/**
 * Registers what a succeeded trial left in its outputs as the next version of a model
 * (made if it does not exist), with the trial's parameters and final value (docs/models.md).
 */
function RegisterTrialModel({ exp, trial }: { exp: Experiment; trial: Trial }) {
  const { message } = App.useApp();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState(exp.name);
  const [framework, setFramework] = useState('sklearn');
  const [path, setPath] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<{ id: number; version: number } | null>(null);
  const register = async () => {
    setBusy(true);
    setError(null);
    try {
      const model = await api.findModel(exp.project, name).catch(async (e: unknown) => {
        if ((e as { status?: number }).status !== 404) throw e;
        return api.createModel({ project: exp.project, name });
      });
      const v = await api.registerModelVersion(model.id, { experiment: exp.id, trial: trial.sequence, framework, path: path || undefined });
      setDone({ id: model.id, version: v.version });
      setOpen(false);
      message.success(`${name} v${v.version} registered from trial #${trial.sequence}`);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Space>
        <Button size="small" onClick={() => setOpen(true)} data-testid={`trial-register-${trial.sequence}`}>
          Register as a model
        </Button>
        {done && (
          <Link to={`/models/${done.id}`} data-testid={`trial-registered-${trial.sequence}`}>
            {name} v{done.version}
          </Link>
        )}
      </Space>
      <Modal
        open={open}
        title={`Register trial #${trial.sequence} as a model version`}
        okText="Register"
        confirmLoading={busy}
        onOk={() => void register()}
        onCancel={() => setOpen(false)}
        okButtonProps={{ 'data-testid': 'trial-register-submit' } as never}
      >
        <Space direction="vertical" style={{ width: '100%' }}>
          <Typography.Text type="secondary">
            Its files from /outputs (all, or the path given), its parameters and final value become the next version.
          </Typography.Text>
          <Input addonBefore="Model" value={name} onChange={(e) => setName(e.target.value)} data-testid="trial-register-name" />
          <Select value={framework} onChange={setFramework} options={FRAMEWORKS.map((f) => ({ value: f, label: f }))} style={{ width: '100%' }} />
          <Input addonBefore="Path in /outputs" placeholder="all of it" value={path} onChange={(e) => setPath(e.target.value)} data-testid="trial-register-path" />
          {error && <Alert type="error" showIcon message={error} data-testid="trial-register-error" />}
        </Space>
      </Modal>
    </>
  );
}

/** One trial: how it ran, its intermediate values as a chart, and its live log. */
function TrialView({ exp, trial, color }: { exp: Experiment; trial: Trial; color: string }) {
  const points = (trial.intermediate ?? []).map((p) => ({ x: p.step, y: p.value }));
  return (
    <div data-testid={`trial-view-${trial.sequence}`} onClick={(e) => e.stopPropagation()} style={{ cursor: 'auto' }}>
      {trial.reason && (
        <Alert
          type={trial.state === 'failed' ? 'error' : 'info'}
          showIcon
          style={{ marginBottom: 12 }}
          message={<span style={{ whiteSpace: 'pre-wrap' }}>{trial.reason}</span>}
        />
      )}
      <Row gutter={16}>
        <Col xs={24} xl={10}>
          <Descriptions column={1} size="small" bordered>
            <Descriptions.Item label="Trial">
              #{trial.sequence} <Typography.Text code>{trial.trial_id}</Typography.Text>
            </Descriptions.Item>
            <Descriptions.Item label="Parameters">
              <span style={{ fontFamily: MONO, fontSize: 12 }}>{paramsText(trial.parameters)}</span>
            </Descriptions.Item>
            <Descriptions.Item label="Final value">{trial.value === null || trial.value === undefined ? none : String(trial.value)}</Descriptions.Item>
            {trial.state === 'succeeded' && (
              <Descriptions.Item label="Model">
                <RegisterTrialModel exp={exp} trial={trial} />
              </Descriptions.Item>
            )}
            <Descriptions.Item label="Exit code">
              <span data-testid={`trial-exit-code-${trial.sequence}`}>{trial.exit_code ?? '—'}</span>
            </Descriptions.Item>
            <Descriptions.Item label="Workload">{trial.workload ? <Typography.Text code copyable>{trial.workload}</Typography.Text> : none}</Descriptions.Item>
            <Descriptions.Item label="Command">
              {trial.argv?.length ? (
                <pre style={{ ...pre, fontSize: 12 }} data-testid={`trial-argv-${trial.sequence}`}>
                  {trial.argv.map(shellQuote).join(' ')}
                </pre>
              ) : (
                none
              )}
            </Descriptions.Item>
          </Descriptions>
        </Col>
        <Col xs={24} xl={14}>
          <LineChart
            testId={`trial-chart-${trial.sequence}`}
            series={[{ name: `#${trial.sequence} ${trial.trial_id}`, color, points }]}
            xLabel="step"
            yLabel="value"
            integerX
            height={220}
            legend={false}
            empty="No intermediate values reported"
          />
        </Col>
      </Row>
      <TrialLog exp={exp} trial={trial} />
      <Artifacts base={api.trialArtifactsBase(exp.id, trial.sequence)} refresh={trial.state} testId="trial-artifacts" />
    </div>
  );
}

/**
 * The log of a trial, read with `fetch` from GET …/trials/{seq}/logs?follow=1 as a stream;
 * when the stream ends while the trial is still going, it follows again.
 */
function TrialLog({ exp, trial }: { exp: Experiment; trial: Trial }) {
  const started = Boolean(trial.started_at) || trial.state !== 'pending';
  const over = FINAL_TRIAL_STATES.includes(trial.state) || FINAL_EXPERIMENT_STATES.includes(exp.state);
  const [log, setLog] = useState('');
  const { shown, tools } = useLogTools(log, `experiment-${exp.id}-trial-${trial.sequence}.log`, 'trial-log-tools');
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
    if (!started) {
      setStreaming(false);
      return;
    }
    const ctrl = new AbortController();
    setStreaming(true);
    api
      .followTrialLog(
        exp.id,
        trial.sequence,
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
  }, [exp.id, trial.sequence, started, again]);

  useEffect(() => {
    if (!ended || over) return;
    const t = setTimeout(() => setAgain((n) => n + 1), 2000);
    return () => clearTimeout(t);
  }, [ended, over]);

  useLayoutEffect(() => {
    const el = preRef.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [log]);

  let status: ReactNode = null;
  if (!started) {
    status = over ? (
      <Typography.Text type="secondary" data-testid="trial-log-none">
        the trial did not run
      </Typography.Text>
    ) : (
      <Typography.Text type="secondary" data-testid="trial-log-waiting">
        <LoadingOutlined /> waiting for the trial to start…
      </Typography.Text>
    );
  } else if (streaming) {
    status = (
      <Typography.Text type="secondary" data-testid="trial-log-live">
        <LoadingOutlined /> live
      </Typography.Text>
    );
  } else if (ended && over) {
    status = (
      <Typography.Text type="secondary" data-testid="trial-log-ended">
        end of log
      </Typography.Text>
    );
  }

  return (
    <div style={{ marginTop: 16 }}>
      <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 8 }}>
        <Typography.Text strong>Log</Typography.Text>
        <Space>
          {status}
          {!streaming && started && (
            <Button size="small" icon={<ReloadOutlined />} onClick={() => setAgain((n) => n + 1)} data-testid="trial-log-reload">
              Reload log
            </Button>
          )}
        </Space>
      </Space>
      {streamError && <Alert type="error" showIcon role="alert" style={{ marginBottom: 12 }} message={streamError} data-testid="trial-log-error" />}
      {trimmed && (
        <Typography.Text type="secondary" style={{ display: 'block', marginBottom: 8 }}>
          Earlier output is not shown (the log is longer than the page keeps).
        </Typography.Text>
      )}
      {!started ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="No log yet" />
      ) : (
        <>
        <div style={{ margin: '8px 0' }}>{tools}</div>
        <pre
          ref={preRef}
          data-testid="trial-log"
          aria-label={`Log of trial ${trial.sequence}`}
          onScroll={(e) => {
            const el = e.currentTarget;
            stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
          }}
          style={{ ...CODE_BLOCK_STYLE, minHeight: 100, maxHeight: 420 }}
        >
          {shown}
        </pre>
        </>
      )}
    </div>
  );
}

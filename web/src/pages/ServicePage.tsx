import { Alert, App, Breadcrumb, Button, Card, Descriptions, Popconfirm, Result, Select, Space, Spin, Switch, Table, Tag, Tooltip, Typography } from 'antd';
import { CodeOutlined, DeleteOutlined, EditOutlined, ReloadOutlined } from '@ant-design/icons';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type HTMLAttributes } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ApiError, errorText, type ReplicaState, type Service, type ServiceCollection, type ServiceEvent } from '../api';
import { MONO } from '../components/images';
import { CODE_BLOCK_STYLE } from '../components/SideDrawer';
import { fmtTimeSec, shellQuote, StateTag } from '../components/pipelines';
import { useLogTools } from '../components/LogTools';
import { TerminalDrawer } from '../components/WorkloadTerminal';
import { useAuth } from '../auth';
import {
  desiredReplicas,
  EventKindTag,
  ModelStatusTag,
  readyReplicas,
  ReplicaStateTag,
  SERVICE_KINDS,
  ServiceFormModal,
  ServiceUrl,
} from '../components/services';

const none = <Typography.Text type="secondary">—</Typography.Text>;

/** "2026-11-29 10:00:05.123" from an RFC 3339 time with milliseconds. */
function fmtTimeMs(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${fmtTimeSec(iso)}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/**
 * One service or inference service: its overview (state and reason, URL and hosts,
 * generation, replicas, image, command, ports, health, canary/shadow), its replicas and
 * its events (newest first), re-read every 2 s; Edit (PUT: the server rolls the replicas
 * one by one) and Delete.
 */
export default function ServicePage({ kind }: { kind: ServiceCollection }) {
  const info = SERVICE_KINDS[kind];
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const [svc, setSvc] = useState<Service | null>(null);
  const [loadError, setLoadError] = useState<Error | null>(null);
  const [editing, setEditing] = useState(false);
  // Debug with a shell: the generation whose replica's terminal opens once it runs.
  const [shellWanted, setShellWanted] = useState<number | null>(null);
  const shellOpened = useCallback(() => setShellWanted(null), []);

  const load = useCallback(async () => {
    try {
      setSvc(await api.getService(info.coll, id));
      setLoadError(null);
    } catch (e) {
      setLoadError(e instanceof Error ? e : new Error(String(e)));
    }
  }, [info.coll, id]);

  useEffect(() => {
    setSvc(null);
    setLoadError(null);
    void load();
    const t = setInterval(() => void load(), 2000);
    return () => clearInterval(t);
  }, [load]);

  const replicas = useMemo(
    () => [...(svc?.replica_states ?? [])].sort((a, b) => a.generation - b.generation || a.index - b.index),
    [svc],
  );
  const events = useMemo(
    () =>
      (svc?.events ?? [])
        .map((e, i) => ({ ...e, seq: i }))
        // Newest first; the server's order (newest first) breaks ties.
        .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : a.seq - b.seq)),
    [svc],
  );

  if (loadError && !svc) {
    const missing = loadError instanceof ApiError && loadError.status === 404;
    return (
      <Result
        status={missing ? '404' : 'error'}
        title={missing ? `${info.Noun} not found` : `Cannot load the ${info.noun}`}
        subTitle={<span data-testid="service-error">{loadError.message}</span>}
        extra={<Button onClick={() => navigate(info.path)}>Back to {info.title.toLowerCase()}</Button>}
      />
    );
  }
  if (!svc) {
    return (
      <div style={{ display: 'flex', justifyContent: 'center', marginTop: 80 }}>
        <Spin size="large" />
      </div>
    );
  }

  const remove = async () => {
    try {
      await api.deleteService(info.coll, svc.id);
      message.success(`${info.Noun} ${svc.name} deleted`);
      navigate(`${info.path}?project=${encodeURIComponent(svc.project)}`);
    } catch (e) {
      message.error(errorText(e));
    }
  };

  const inference = svc.kind === 'InferenceService';
  const command = svc.command ?? [];
  const stage = svc.model_status ?? 'online';

  const deploy = async (to: 'debug' | 'test' | 'prod' | 'clear', idle = false) => {
    try {
      const s = await api.deployService(svc.id, to, idle);
      setSvc(s);
      message.success(to === 'clear' ? `${svc.name} is offline` : `${svc.name} deployed to ${to}${idle ? ' with a shell' : ''}`);
      // Debug with a shell: its replica's terminal opens once the replica runs.
      setShellWanted(idle ? s.generation : null);
    } catch (e) {
      message.error(errorText(e));
    }
  };
  // Online services must be cleared before a debug or test deploy (the server says so too).
  const deployButtons = inference && (
    <Space wrap data-testid="deploy-buttons">
      {(['debug', 'test', 'prod'] as const).map((to) => (
        <Popconfirm
          key={to}
          title={`Deploy ${svc.name} to ${to}?`}
          description={
            to === 'prod'
              ? 'It answers on the production host; the autoscaler runs when min < max.'
              : to === 'test'
                ? 'min replicas on the test. host.'
                : 'One replica on the debug. host.'
          }
          okText="Deploy"
          onConfirm={() => deploy(to)}
          disabled={stage === 'online' && to !== 'prod'}
        >
          <Button
            type={to === 'prod' ? 'primary' : 'default'}
            disabled={stage === 'online' && to !== 'prod'}
            data-testid={`deploy-${to}`}
            title={stage === 'online' && to !== 'prod' ? 'Online: clear it first' : undefined}
          >
            {to === 'prod' ? (stage === 'online' ? 'Redeploy prod' : 'Deploy prod') : `Deploy ${to}`}
          </Button>
        </Popconfirm>
      ))}
      <Popconfirm
        title={`Debug ${svc.name} with a shell?`}
        description="One replica with its image, env and mounts, idle: its command does not run. A terminal opens in it; start the server there and it answers on the debug. host."
        okText="Deploy"
        onConfirm={() => deploy('debug', true)}
        disabled={stage === 'online'}
      >
        <Button
          icon={<CodeOutlined />}
          disabled={stage === 'online'}
          data-testid="deploy-debug-shell"
          title={stage === 'online' ? 'Online: clear it first' : undefined}
        >
          Debug with a shell
        </Button>
      </Popconfirm>
      <Popconfirm
        title={`Take ${svc.name} offline?`}
        description="Its replicas stop and its hosts stop answering."
        okText="Clear"
        okButtonProps={{ danger: true }}
        onConfirm={() => deploy('clear')}
        disabled={stage === 'offline'}
      >
        <Button danger disabled={stage === 'offline'} data-testid="deploy-clear">
          Clear
        </Button>
      </Popconfirm>
    </Space>
  );

  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Breadcrumb
        items={[
          { title: <Link to={info.path}>{info.title}</Link> },
          { title: <Link to={`${info.path}?project=${encodeURIComponent(svc.project)}`}>{svc.project}</Link> },
          { title: svc.name },
        ]}
      />
      <Card
        title={
          <Space>
            <Typography.Title level={4} style={{ margin: 0 }} data-testid="service-title">
              {svc.name}
            </Typography.Title>
            <StateTag state={svc.state} testId="service-state" />
            {inference && <ModelStatusTag status={stage} testId="model-status" />}
            {inference && stage === 'debug' && svc.debug_idle && (
              <Tag data-testid="debug-idle">idle, with a shell</Tag>
            )}
          </Space>
        }
        extra={
          <Space>
            <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label={`Reload ${info.noun}`} />
            <Button icon={<EditOutlined />} onClick={() => setEditing(true)} data-testid="edit-service">
              Edit
            </Button>
            <Popconfirm
              title={`Delete ${info.noun} ${svc.name}?`}
              description="Its replicas are stopped and its hosts stop answering."
              okText="Delete"
              okButtonProps={{ danger: true }}
              onConfirm={() => remove()}
            >
              <Button danger icon={<DeleteOutlined />} data-testid="delete-service">
                Delete
              </Button>
            </Popconfirm>
          </Space>
        }
      >
        {deployButtons && <div style={{ marginBottom: 16 }}>{deployButtons}</div>}
        {svc.reason && (
          <Alert
            type={svc.state === 'failed' ? 'error' : 'info'}
            showIcon
            style={{ marginBottom: 16 }}
            data-testid="service-reason"
            message={<span style={{ whiteSpace: 'pre-wrap' }}>{svc.reason}</span>}
          />
        )}
        <Descriptions bordered size="small" column={{ xs: 1, md: 2, xl: 3 }}>
          <Descriptions.Item label="Project">{svc.project}</Descriptions.Item>
          <Descriptions.Item label="State">
            <StateTag state={svc.state} />
          </Descriptions.Item>
          <Descriptions.Item label="Generation">
            <span data-testid="service-generation">{svc.generation}</span>
          </Descriptions.Item>
          <Descriptions.Item label="URL" span={2}>
            <ServiceUrl url={svc.url} testId="service-url" />
          </Descriptions.Item>
          <Descriptions.Item label="Replicas">
            <span data-testid="service-ready">
              {readyReplicas(svc)} ready of {desiredReplicas(svc)}
            </span>
            {inference && (svc.max_replicas ?? 0) > (svc.min_replicas ?? 0) && (
              <Typography.Text type="secondary"> (up to {svc.max_replicas})</Typography.Text>
            )}
          </Descriptions.Item>
          {(svc.external ?? []).length > 0 && (
            <Descriptions.Item label="External (IP)" span={3}>
              <Space direction="vertical" size={0} data-testid="service-external">
                {(svc.external ?? []).map((e) => (
                  <span key={e.address}>
                    <Typography.Text style={{ fontFamily: MONO, fontSize: 12.5 }}>{e.address}</Typography.Text>
                    <Typography.Text type="secondary"> → port {e.container_port}</Typography.Text>
                    {e.error && <Typography.Text type="danger"> ({e.error})</Typography.Text>}
                  </span>
                ))}
              </Space>
            </Descriptions.Item>
          )}
          <Descriptions.Item label="Hosts" span={3}>
            <Space direction="vertical" size={0} data-testid="service-hosts">
              {(svc.hosts ?? []).map((h) => (
                <Typography.Text key={h} style={{ fontFamily: MONO, fontSize: 12.5 }}>
                  {h}
                </Typography.Text>
              ))}
            </Space>
          </Descriptions.Item>
          {inference && (
            <>
              <Descriptions.Item label="Service type">{svc.service_type}</Descriptions.Item>
              <Descriptions.Item label="Model">
                {svc.model_name} <Typography.Text type="secondary">{svc.model_version}</Typography.Text>
              </Descriptions.Item>
              <Descriptions.Item label="Model path">{svc.model_path || none}</Descriptions.Item>
              <Descriptions.Item label="Registry version">
                {svc.model_ref ? <span data-testid="service-model-ref">{svc.model_ref}</span> : none}
              </Descriptions.Item>
              <Descriptions.Item label="Canary">
                <span data-testid="service-canary">{svc.canary || none}</span>
              </Descriptions.Item>
              <Descriptions.Item label="Shadow">
                <span data-testid="service-shadow">{svc.shadow || none}</span>
              </Descriptions.Item>
              <Descriptions.Item label="HPA">{svc.hpa || none}</Descriptions.Item>
            </>
          )}
          <Descriptions.Item label="Image">
            <Typography.Text code>{svc.image}</Typography.Text>
          </Descriptions.Item>
          <Descriptions.Item label="Ports">
            <span data-testid="service-ports">{(svc.ports ?? []).join(', ')}</span>
          </Descriptions.Item>
          <Descriptions.Item label="Health">{svc.health ? <Typography.Text code>{svc.health}</Typography.Text> : 'TCP connect'}</Descriptions.Item>
          <Descriptions.Item label="Command" span={3}>
            {command.length ? (
              <pre style={{ margin: 0, fontFamily: MONO, fontSize: 12, whiteSpace: 'pre-wrap', wordBreak: 'break-all' }} data-testid="service-command">
                {command.map(shellQuote).join(' ')}
              </pre>
            ) : (
              <Typography.Text type="secondary">the image entrypoint</Typography.Text>
            )}
          </Descriptions.Item>
          {Object.keys(svc.env ?? {}).length > 0 && (
            <Descriptions.Item label="Environment" span={3}>
              <pre style={{ margin: 0, fontFamily: MONO, fontSize: 12, whiteSpace: 'pre-wrap' }}>
                {Object.entries(svc.env)
                  .map(([k, v]) => `${k}=${v}`)
                  .join('\n')}
              </pre>
            </Descriptions.Item>
          )}
          <Descriptions.Item label="Created">
            {fmtTimeSec(svc.created_at)} <Typography.Text type="secondary">by {svc.created_by}</Typography.Text>
          </Descriptions.Item>
          <Descriptions.Item label="Updated">{fmtTimeSec(svc.updated_at)}</Descriptions.Item>
        </Descriptions>
      </Card>
      <Card title="Replicas" size="small">
        <Table<ReplicaState>
          data-testid="replicas-table"
          size="small"
          rowKey={(r) => `${r.generation}-${r.index}`}
          dataSource={replicas}
          pagination={false}
          locale={{ emptyText: 'No replicas' }}
          onRow={(r) =>
            ({ 'data-testid': `replica-row-${r.index}`, 'data-generation': r.generation, 'data-state': r.state }) as HTMLAttributes<HTMLElement>
          }
          columns={[
            { title: 'Index', dataIndex: 'index' },
            {
              title: 'Generation',
              dataIndex: 'generation',
              render: (g: number) => (
                <span>
                  {g}
                  {g !== svc.generation && <Typography.Text type="secondary"> (old)</Typography.Text>}
                </span>
              ),
            },
            { title: 'State', dataIndex: 'state', render: (s: string) => <ReplicaStateTag state={s} /> },
            { title: 'Workload', dataIndex: 'workload', render: (w: string) => (w ? <Typography.Text code>{w}</Typography.Text> : none) },
            { title: 'Port', dataIndex: 'port', render: (p: number) => (p ? p : none) },
          ]}
        />
      </Card>
      <ReplicaLog
        coll={info.coll}
        serviceId={svc.id}
        replicas={replicas}
        runsAs={svc.created_by}
        terminalFor={shellWanted}
        onTerminalOpened={shellOpened}
      />
      {inference && (
        <Card title="Deploy history" size="small" extra={<Typography.Text type="secondary">last 10, newest first</Typography.Text>}>
          <Table<{ at: string; message: string }>
            data-testid="deploy-history"
            size="small"
            rowKey={(h) => `${h.at}-${h.message}`}
            dataSource={svc.deploy_history ?? []}
            pagination={false}
            locale={{ emptyText: 'Never deployed' }}
            columns={[
              { title: 'Time', dataIndex: 'at', width: 200, render: (t: string) => <span style={{ whiteSpace: 'nowrap' }}>{fmtTimeMs(t)}</span> },
              { title: 'Action', dataIndex: 'message' },
            ]}
          />
        </Card>
      )}
      <Card title="Events" size="small" extra={<Typography.Text type="secondary">newest first</Typography.Text>}>
        <Table<ServiceEvent & { seq: number }>
          data-testid="events-table"
          size="small"
          rowKey="seq"
          dataSource={events}
          pagination={{ hideOnSinglePage: true, pageSize: 20 }}
          locale={{ emptyText: 'No events yet' }}
          onRow={(e) => ({ 'data-testid': 'service-event', 'data-kind': e.kind }) as HTMLAttributes<HTMLElement>}
          columns={[
            { title: 'Time', dataIndex: 'at', width: 200, render: (t: string) => <span style={{ whiteSpace: 'nowrap' }}>{fmtTimeMs(t)}</span> },
            { title: 'Kind', dataIndex: 'kind', width: 160, render: (k: string) => <EventKindTag kind={k} /> },
            { title: 'Message', dataIndex: 'message', render: (m: string) => <span style={{ whiteSpace: 'pre-wrap' }}>{m}</span> },
          ]}
        />
      </Card>
      <ServiceFormModal
        info={info}
        open={editing}
        editing={svc}
        onClose={() => setEditing(false)}
        onSaved={(s) => {
          setEditing(false);
          setSvc(s);
          message.success(`${info.Noun} ${s.name} saved: generation ${s.generation}`);
        }}
      />
    </Space>
  );
}

/** The most of a log the page keeps (the end of it). */
const MAX_REPLICA_LOG_CHARS = 512 * 1024;

/**
 * The log of one replica (GET /{coll}/{id}/logs?replica=N&follow=1, streamed), or with
 * "Previous instance" the kept log of its last instance that ended: why it crashed.
 */
function ReplicaLog({
  coll,
  serviceId,
  replicas,
  runsAs,
  terminalFor,
  onTerminalOpened,
}: {
  coll: ServiceCollection;
  serviceId: number;
  replicas: ReplicaState[];
  runsAs: string;
  /** A generation whose first running replica's terminal opens once it runs (Debug with a shell). */
  terminalFor?: number | null;
  onTerminalOpened?: () => void;
}) {
  const { me } = useAuth();
  const [terminal, setTerminal] = useState(false);
  // A terminal acts as the user the replicas run as (the creator): theirs, or an admin's.
  const mayTerminal = me?.user.username === runsAs || !!me?.user.admin;
  const indexes = useMemo(() => [...new Set(replicas.map((r) => r.index))].sort((a, b) => a - b), [replicas]);
  const [picked, setPicked] = useState<number | null>(null);
  const replica = picked ?? indexes[0] ?? 0;
  const [previous, setPrevious] = useState(false);
  const [log, setLog] = useState('');
  const { shown, tools } = useLogTools(log, `${coll}-${serviceId}-replica-${replica}${previous ? '-previous' : ''}.log`, 'replica-log-tools');
  const [state, setState] = useState<'live' | 'ended' | 'none'>('ended');
  const [error, setError] = useState<string | null>(null);
  const [again, setAgain] = useState(0);
  const preRef = useRef<HTMLPreElement>(null);
  // Whether an instance of it runs now (a restarted one keeps its workload name).
  const alive = replicas.some((r) => r.index === replica && (r.state === 'ready' || r.state === 'starting'));

  useEffect(() => {
    setLog('');
    setError(null);
    const ctrl = new AbortController();
    setState(previous ? 'ended' : 'live');
    api
      .followReplicaLog(
        coll,
        serviceId,
        replica,
        previous,
        (text) => setLog((prev) => (prev + text).slice(-MAX_REPLICA_LOG_CHARS)),
        ctrl.signal,
      )
      .then(() => {
        if (!ctrl.signal.aborted) setState('ended');
      })
      .catch((e: unknown) => {
        if (ctrl.signal.aborted) return;
        if (e instanceof ApiError && e.status === 404) {
          setState('none');
        } else {
          setState('ended');
          setError(errorText(e));
        }
      });
    return () => ctrl.abort();
  }, [coll, serviceId, replica, previous, again]);

  // Debug with a shell: once a replica of that generation runs, its terminal opens.
  useEffect(() => {
    if (terminalFor == null) return;
    const up = replicas.find((r) => r.generation === terminalFor && (r.state === 'starting' || r.state === 'ready'));
    if (!up || !mayTerminal) return;
    setPicked(up.index);
    setTerminal(true);
    onTerminalOpened?.();
  }, [terminalFor, replicas, mayTerminal, onTerminalOpened]);

  // The stream ended (the instance ended, or none ran) while an instance runs: follow it.
  useEffect(() => {
    if (previous || state === 'live' || !alive) return;
    const t = setTimeout(() => setAgain((n) => n + 1), 2000);
    return () => clearTimeout(t);
  }, [previous, state, alive]);

  useLayoutEffect(() => {
    const el = preRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [log]);

  return (
    <Card
      title="Replica log"
      size="small"
      data-testid="replica-log-card"
      extra={
        <Space>
          <Select
            size="small"
            data-testid="replica-log-index"
            value={replica}
            style={{ minWidth: 120 }}
            options={(indexes.length ? indexes : [0]).map((i) => ({ value: i, label: `replica ${i}` }))}
            onChange={(v: number) => setPicked(v)}
          />
          <Switch size="small" checked={previous} onChange={setPrevious} data-testid="replica-log-previous" />
          <Typography.Text type="secondary">previous instance</Typography.Text>
          <Button size="small" icon={<ReloadOutlined />} onClick={() => setAgain((n) => n + 1)} data-testid="replica-log-reload">
            Reload
          </Button>
          <Tooltip title={mayTerminal ? `A shell in replica ${replica}` : `Only ${runsAs}, whom it runs as, or an admin`}>
            <Button
              size="small"
              icon={<CodeOutlined />}
              disabled={!mayTerminal || indexes.length === 0}
              onClick={() => setTerminal(true)}
              data-testid="replica-terminal"
            >
              Terminal
            </Button>
          </Tooltip>
        </Space>
      }
    >
      <TerminalDrawer
        title={`Terminal in replica ${replica}`}
        path={terminal ? `/${coll}/${serviceId}/terminal?replica=${replica}` : null}
        onClose={() => setTerminal(false)}
      />
      {error && <Alert type="error" showIcon role="alert" style={{ marginBottom: 8 }} message={error} />}
      {state === 'none' ? (
        <Typography.Text type="secondary" data-testid="replica-log-none">
          {previous ? 'No earlier instance of this replica has ended.' : 'This replica is not running and has no kept log.'}
        </Typography.Text>
      ) : (
        <>
          <Typography.Text type="secondary" data-testid={`replica-log-${state}`}>
            {state === 'live' ? 'live' : 'end of log'}
          </Typography.Text>
          <div style={{ margin: '8px 0' }}>{tools}</div>
          <pre
            ref={preRef}
            data-testid="replica-log"
            style={{ ...CODE_BLOCK_STYLE, minHeight: 80, maxHeight: 420, margin: '8px 0 0' }}
          >
            {shown}
          </pre>
        </>
      )}
    </Card>
  );
}

import { Alert, App, Breadcrumb, Button, Card, Descriptions, Popconfirm, Result, Space, Spin, Typography } from 'antd';
import { DeleteOutlined, LoadingOutlined, ReloadOutlined } from '@ant-design/icons';
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ApiError, errorText, FINAL_BUILD_STATES, fmtTime, type ImageBuild } from '../api';
import { BuildStateTag, MONO } from '../components/images';
import { CODE_BLOCK_STYLE } from '../components/SideDrawer';
import { useLogTools } from '../components/LogTools';

/** The most log text kept in the page; older output is dropped beyond it. */
const MAX_LOG_CHARS = 4 * 1024 * 1024;

const none = <Typography.Text type="secondary">—</Typography.Text>;

/**
 * One image build: its fields, state (and reason when it failed) and its live log.
 * The log is read with `fetch` from GET /image-builds/{id}/logs?follow=1 as a stream
 * and grows as the build writes; when the server ends the stream the build is read
 * again to show its final state.
 */
export default function BuildDetailPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const [build, setBuild] = useState<ImageBuild | null>(null);
  const [loadError, setLoadError] = useState<Error | null>(null);

  const load = useCallback(async () => {
    try {
      const b = await api.getBuild(id);
      setBuild(b);
      setLoadError(null);
      return b;
    } catch (e) {
      setLoadError(e instanceof Error ? e : new Error(String(e)));
      return null;
    }
  }, [id]);

  useEffect(() => {
    setBuild(null);
    setLoadError(null);
    void load();
  }, [load]);

  const finished = build ? FINAL_BUILD_STATES.includes(build.state) : false;

  // While the build is under way, re-read it now and then so pending → running shows
  // even before the log has anything to say.
  useEffect(() => {
    if (!build || finished) return;
    const t = setInterval(() => void load(), 2000);
    return () => clearInterval(t);
  }, [build, finished, load]);

  if (loadError && !build) {
    const missing = loadError instanceof ApiError && loadError.status === 404;
    return (
      <Result
        status={missing ? '404' : 'error'}
        title={missing ? 'Image build not found' : 'Cannot load the image build'}
        subTitle={<span data-testid="build-error">{loadError.message}</span>}
        extra={<Button onClick={() => navigate('/images/builds')}>Back to image builds</Button>}
      />
    );
  }
  if (!build) {
    return (
      <div style={{ display: 'flex', justifyContent: 'center', marginTop: 80 }}>
        <Spin size="large" />
      </div>
    );
  }

  const remove = async () => {
    try {
      await api.deleteBuild(build.id);
      message.success(`Build ${build.name} deleted`);
      navigate(`/images/builds?project=${encodeURIComponent(build.project)}`);
    } catch (e) {
      message.error(errorText(e));
    }
  };

  const config = build.config && Object.keys(build.config).length > 0 ? JSON.stringify(build.config, null, 2) : '';

  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Breadcrumb
        items={[
          { title: <Link to="/images">Images</Link> },
          { title: <Link to={`/images/builds?project=${encodeURIComponent(build.project)}`}>Image builds</Link> },
          { title: build.name },
        ]}
      />
      <Card
        title={
          <Space>
            <Typography.Title level={4} style={{ margin: 0 }} data-testid="build-name">
              {build.name}
            </Typography.Title>
            <BuildStateTag state={build.state} testId="build-state" />
          </Space>
        }
        extra={
          <Space>
            <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label="Reload build" />
            <Popconfirm
              title={`Delete build ${build.name}?`}
              description={build.state === 'running' ? 'It is running and will be stopped.' : 'The image it made stays.'}
              okText="Delete"
              okButtonProps={{ danger: true }}
              onConfirm={() => remove()}
            >
              <Button danger icon={<DeleteOutlined />} data-testid="delete-build">
                Delete
              </Button>
            </Popconfirm>
          </Space>
        }
      >
        {build.state === 'failed' && build.reason && (
          <Alert
            type="error"
            showIcon
            role="alert"
            style={{ marginBottom: 16 }}
            message="The build failed"
            description={
              <span data-testid="build-reason" style={{ whiteSpace: 'pre-wrap' }}>
                {build.reason}
              </span>
            }
          />
        )}
        {loadError && (
          <Alert type="warning" showIcon style={{ marginBottom: 16 }} message={loadError.message} data-testid="build-reload-error" />
        )}
        <Descriptions column={{ xs: 1, md: 2 }} size="small" bordered data-testid="build-fields">
          <Descriptions.Item label="Project">{build.project}</Descriptions.Item>
          <Descriptions.Item label="Image">
            <Typography.Text code data-testid="build-image">
              {build.image}
            </Typography.Text>
          </Descriptions.Item>
          {build.commit ? (
            <Descriptions.Item label="Commit of workload" span={2}>
              <Typography.Text code data-testid="build-commit">
                {build.commit}
              </Typography.Text>
            </Descriptions.Item>
          ) : (
            <Descriptions.Item label="From" span={2}>
              {build.from ? (
                <Typography.Text code data-testid="build-from">
                  {build.from}
                </Typography.Text>
              ) : (
                'the Dockerfile’s own FROM line'
              )}
            </Descriptions.Item>
          )}
          {!build.commit && (
            <Descriptions.Item label="Dockerfile" span={2}>
              {build.dockerfile ? (
                <pre data-testid="build-dockerfile" style={{ margin: 0, fontFamily: MONO, whiteSpace: 'pre-wrap' }}>
                  {build.dockerfile}
                </pre>
              ) : (
                none
              )}
            </Descriptions.Item>
          )}
          <Descriptions.Item label="Config" span={2}>
            {config ? (
              <pre data-testid="build-config" style={{ margin: 0, fontFamily: MONO, whiteSpace: 'pre-wrap' }}>
                {config}
              </pre>
            ) : (
              none
            )}
          </Descriptions.Item>
          <Descriptions.Item label="Description" span={2}>
            {build.description || none}
          </Descriptions.Item>
          <Descriptions.Item label="Created by">{build.created_by}</Descriptions.Item>
          <Descriptions.Item label="Created at">{fmtTime(build.created_at)}</Descriptions.Item>
          <Descriptions.Item label="Started at">{build.started_at ? fmtTime(build.started_at) : none}</Descriptions.Item>
          <Descriptions.Item label="Finished at">{build.finished_at ? fmtTime(build.finished_at) : none}</Descriptions.Item>
        </Descriptions>
      </Card>
      <BuildLog build={build} onEnded={load} />
    </Space>
  );
}

/** The live build log: a <pre> fed by the streamed logs route, auto-scrolling while at the bottom. */
function BuildLog({ build, onEnded }: { build: ImageBuild; onEnded: () => Promise<ImageBuild | null> }) {
  const id = build.id;
  const [log, setLog] = useState('');
  const { shown, tools } = useLogTools(log, `build-${build.id}.log`, 'build-log-tools');
  const [trimmed, setTrimmed] = useState(false);
  const [streaming, setStreaming] = useState(false);
  const [ended, setEnded] = useState(false);
  const [streamError, setStreamError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const preRef = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  const finished = FINAL_BUILD_STATES.includes(build.state);

  useEffect(() => {
    const ctrl = new AbortController();
    // Each (re)connection reads the log from its start.
    setLog('');
    setTrimmed(false);
    setStreaming(true);
    setEnded(false);
    setStreamError(null);
    api
      .followBuildLog(
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
        void onEnded();
      })
      .catch((e: unknown) => {
        if (ctrl.signal.aborted) return;
        setStreaming(false);
        setStreamError(errorText(e));
        void onEnded();
      });
    return () => ctrl.abort();
    // onEnded only re-reads the build; a new one must not restart the stream.
  }, [id, attempt]);

  // The server ended the stream but the build is not over (e.g. the connection was cut):
  // follow again after a moment.
  useEffect(() => {
    if (!ended || finished) return;
    const t = setTimeout(() => setAttempt((a) => a + 1), 3000);
    return () => clearTimeout(t);
  }, [ended, finished]);

  useLayoutEffect(() => {
    const el = preRef.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [log]);

  const waiting = build.state === 'pending' && log === '';

  let status: ReactNode = null;
  if (waiting) {
    status = (
      <Typography.Text type="secondary" data-testid="build-log-waiting">
        <LoadingOutlined /> waiting for the build to start…
      </Typography.Text>
    );
  } else if (streaming) {
    status = (
      <Typography.Text type="secondary" data-testid="build-log-live">
        <LoadingOutlined /> live
      </Typography.Text>
    );
  } else if (ended && finished) {
    status = (
      <Typography.Text type="secondary" data-testid="build-log-ended">
        end of log
      </Typography.Text>
    );
  }

  return (
    <Card
      title="Build log"
      extra={
        <Space>
          {status}
          {!streaming && (
            <Button size="small" icon={<ReloadOutlined />} onClick={() => setAttempt((a) => a + 1)} data-testid="build-log-reload">
              Reload log
            </Button>
          )}
        </Space>
      }
    >
      {streamError && (
        <Alert type="error" showIcon role="alert" style={{ marginBottom: 12 }} message={streamError} data-testid="build-log-error" />
      )}
      {trimmed && (
        <Typography.Text type="secondary" style={{ display: 'block', marginBottom: 8 }}>
          Earlier output is not shown (the log is longer than the page keeps).
        </Typography.Text>
      )}
      <div style={{ margin: '8px 0' }}>{tools}</div>
      <pre
        ref={preRef}
        data-testid="build-log"
        aria-label="Build log"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
        style={{ ...CODE_BLOCK_STYLE, minHeight: 120, maxHeight: 520 }}
      >
        {shown}
      </pre>
    </Card>
  );
}

import { Alert, App, Breadcrumb, Button, Card, Descriptions, Modal, Popconfirm, Result, Select, Space, Spin, Table, Tag, Typography } from 'antd';
import { CloudUploadOutlined, DeleteOutlined, DownloadOutlined } from '@ant-design/icons';
import { useCallback, useEffect, useMemo, useState, type HTMLAttributes } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, errorText, type Model, type ModelStage, type ModelVersion, type Service } from '../api';
import { saveBlob } from '../components/download';
import { fmtBytes, fmtTimeSec } from '../components/pipelines';

const STAGES: ModelStage[] = ['none', 'staging', 'production', 'archived'];
const NEW = '__new__';
const STAGE_COLOR: Record<ModelStage, string> = { none: 'default', staging: 'gold', production: 'green', archived: 'default' };

/**
 * One model of the registry: its versions side by side (every metric a column, so
 * versions compare at a glance), each with its stage (changed here), framework,
 * parameters, files (downloaded checked against their SHA-256) and where it came from:
 * a link to the run's task that made it.
 */
export default function ModelPage() {
  const { id } = useParams();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [model, setModel] = useState<Model | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setModel(await api.getModel(Number(id)));
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load]);

  const versions = useMemo(() => model?.version_list ?? [], [model]);
  // Deploy: the version picked, and where to (NEW: a new inference service).
  const [deploying, setDeploying] = useState<ModelVersion | null>(null);
  const [target, setTarget] = useState<string>(NEW);
  const [services, setServices] = useState<Service[]>([]);
  useEffect(() => {
    if (!deploying || !model) return;
    api
      .listServices('inference-services', model.project)
      .then((r) => setServices(r.items ?? []))
      .catch(() => setServices([]));
  }, [deploying, model]);
  const metricNames = useMemo(() => [...new Set(versions.flatMap((v) => Object.keys(v.metrics ?? {})))].sort(), [versions]);

  if (error && !model) {
    return (
      <div data-testid="model-error">
        <Result status="warning" title="Cannot show this model" subTitle={error} />
      </div>
    );
  }
  if (!model) return <Spin />;

  const setStage = async (v: ModelVersion, stage: ModelStage) => {
    try {
      await api.setModelStage(model.id, v.version, stage);
      message.success(`${model.name} v${v.version}: ${stage}`);
      await load();
    } catch (e) {
      message.error(errorText(e));
    }
  };
  const download = async (v: ModelVersion, path: string) => {
    try {
      saveBlob(await api.fetchModelFile(model.id, v.version, path), path.split('/').pop() ?? 'file');
    } catch (e) {
      message.error(errorText(e));
    }
  };
  const deploy = async () => {
    if (!deploying) return;
    try {
      const r = await api.deployModelVersion(model.id, deploying.version, target === NEW ? undefined : target);
      message.success(`${r.model_ref} → ${r.service} (${r.result})`);
      setDeploying(null);
      await load();
    } catch (e) {
      message.error(errorText(e));
    }
  };
  const remove = async () => {
    try {
      await api.deleteModel(model.id);
      navigate(`/models?project=${encodeURIComponent(model.project)}`);
    } catch (e) {
      message.error(errorText(e));
    }
  };

  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Breadcrumb items={[{ title: <Link to="/models">Models</Link> }, { title: model.name }]} />
      <Card
        title={
          <Space>
            <Typography.Title level={4} style={{ margin: 0 }} data-testid="model-title">
              {model.name}
            </Typography.Title>
            <Tag>{model.project}</Tag>
          </Space>
        }
        extra={
          <Popconfirm title={`Delete ${model.name} and its ${model.versions} versions?`} okText="Delete" okButtonProps={{ danger: true }} onConfirm={() => void remove()}>
            <Button danger icon={<DeleteOutlined />} data-testid="model-delete">
              Delete
            </Button>
          </Popconfirm>
        }
      >
        {error && <Alert type="error" showIcon style={{ marginBottom: 16 }} message={error} />}
        <Descriptions size="small" column={{ xs: 1, md: 3 }}>
          <Descriptions.Item label="Description">{model.description || '—'}</Descriptions.Item>
          <Descriptions.Item label="Created by">{model.created_by}</Descriptions.Item>
          <Descriptions.Item label="Updated">{fmtTimeSec(model.updated_at)}</Descriptions.Item>
        </Descriptions>
      </Card>
      <Card title="Versions" size="small" extra={<Typography.Text type="secondary">newest first; metrics side by side</Typography.Text>}>
        <Table<ModelVersion>
          data-testid="model-versions"
          rowKey="version"
          dataSource={versions}
          pagination={false}
          scroll={{ x: true }}
          locale={{ emptyText: 'No versions yet: quader model register NAME --run RUN --task TASK --framework F' }}
          onRow={(v) => ({ 'data-testid': `version-row-${v.version}` }) as HTMLAttributes<HTMLElement>}
          expandable={{
            expandedRowRender: (v) => (
              <Space direction="vertical" style={{ width: '100%' }} data-testid={`version-files-${v.version}`}>
                {v.files.map((f) => (
                  <Space key={f.path} wrap>
                    <Button size="small" icon={<DownloadOutlined />} onClick={() => void download(v, f.path)} data-testid={`version-file-${v.version}-${f.path}`}>
                      {f.path}
                    </Button>
                    <Typography.Text type="secondary">{fmtBytes(f.size)}</Typography.Text>
                    <Typography.Text type="secondary" code>
                      sha256 {f.sha256.slice(0, 16)}…
                    </Typography.Text>
                  </Space>
                ))}
                {Object.keys(v.params ?? {}).length > 0 && (
                  <Typography.Text data-testid={`version-params-${v.version}`}>
                    Parameters: {Object.entries(v.params).map(([k, x]) => `${k}=${String(x)}`).join(', ')}
                  </Typography.Text>
                )}
                {v.description && <Typography.Text>{v.description}</Typography.Text>}
              </Space>
            ),
          }}
          columns={[
            { title: 'Version', dataIndex: 'version', render: (n: number) => <b>v{n}</b> },
            {
              title: 'Stage',
              dataIndex: 'stage',
              render: (s: ModelStage, v) => (
                <Space>
                  <Tag color={STAGE_COLOR[s]} data-testid={`version-stage-${v.version}`} data-stage={s}>
                    {s}
                  </Tag>
                  <Select<ModelStage>
                    size="small"
                    value={s}
                    style={{ width: 120 }}
                    aria-label={`Stage of v${v.version}`}
                    data-testid={`stage-select-${v.version}`}
                    onChange={(next) => void setStage(v, next)}
                    options={STAGES.map((x) => ({ value: x, label: x }))}
                  />
                </Space>
              ),
            },
            { title: 'Framework', dataIndex: 'framework' },
            ...metricNames.map((m) => ({
              title: m,
              key: `metric-${m}`,
              render: (_: unknown, v: ModelVersion) => (
                <span data-testid={`metric-${v.version}-${m}`}>{v.metrics?.[m] !== undefined ? String(v.metrics[m]) : '—'}</span>
              ),
            })),
            {
              title: 'Made by',
              key: 'source',
              render: (_: unknown, v: ModelVersion) =>
                v.source?.experiment ? (
                  <Link to={`/experiments/${v.source.experiment}?trial=${v.source.trial}`} data-testid={`version-source-${v.version}`}>
                    experiment {v.source.experiment_name} · trial #{v.source.trial}
                  </Link>
                ) : v.source?.run ? (
                  <Link to={`/runs/${v.source.run}?task=${encodeURIComponent(v.source.task ?? '')}`} data-testid={`version-source-${v.version}`}>
                    run {v.source.run} · {v.source.pipeline} / {v.source.task} (attempt {v.source.attempt})
                  </Link>
                ) : (
                  '—'
                ),
            },
            {
              title: 'Served by',
              key: 'served',
              render: (_: unknown, v: ModelVersion) => (
                <Space wrap data-testid={`version-served-${v.version}`}>
                  {(model.served_by ?? [])
                    .filter((x) => x.version === v.version)
                    .map((x) => (
                      <Link key={x.service} to={`/inference-services/${x.id}`}>
                        <Tag color="blue">{x.service}</Tag>
                      </Link>
                    ))}
                  <Button
                    size="small"
                    icon={<CloudUploadOutlined />}
                    onClick={() => {
                      setTarget(NEW);
                      setDeploying(v);
                    }}
                    data-testid={`version-deploy-${v.version}`}
                  >
                    Deploy
                  </Button>
                </Space>
              ),
            },
            { title: 'Files', key: 'files', render: (_: unknown, v: ModelVersion) => `${v.files.length} · ${fmtBytes(v.size_bytes)}` },
            { title: 'Registered', key: 'registered', render: (_: unknown, v: ModelVersion) => `${v.registered_by}, ${fmtTimeSec(v.registered_at)}` },
          ]}
        />
      </Card>
      <Modal
        open={deploying !== null}
        title={deploying ? `Deploy ${model.name} v${deploying.version}` : ''}
        okText="Deploy"
        onOk={() => void deploy()}
        onCancel={() => setDeploying(null)}
        okButtonProps={{ 'data-testid': 'deploy-submit' } as never}
      >
        <Typography.Paragraph type="secondary">
          A new inference service (the predict server, for sklearn and xgboost), or one of the project's switched to this
          version through the gray upgrade: its replicas are replaced once the new ones are ready. Deploying an earlier
          version is the rollback.
        </Typography.Paragraph>
        <Select
          style={{ width: '100%' }}
          value={target}
          onChange={setTarget}
          data-testid="deploy-target"
          options={[
            { value: NEW, label: 'A new inference service' },
            ...services.map((s) => ({ value: s.name, label: `${s.name}${s.model_ref ? ` (now ${s.model_ref})` : ''}` })),
          ]}
        />
      </Modal>
    </Space>
  );
}

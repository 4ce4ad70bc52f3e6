import { Alert, App, Button, Card, Popconfirm, Space, Table, Tooltip, Typography } from 'antd';
import { DeleteOutlined, DeploymentUnitOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { useCallback, useEffect, useState, type HTMLAttributes } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, errorText, type Service, type ServiceCollection } from '../api';
import { useAuth } from '../auth';
import { ALL_PROJECTS, defaultProject, ProjectFilter } from '../components/images';
import ManifestsDrawer from '../components/ManifestsDrawer';
import { fmtTimeSec, StateTag } from '../components/pipelines';
import { desiredReplicas, ModelStatusTag, readyReplicas, SERVICE_KINDS, ServiceFormModal, ServiceUrl } from '../components/services';

/**
 * The Services and Inference services areas (one page, by `kind`): every service of
 * the caller's projects with its state, ready/desired replicas, production URL,
 * generation and creation; "New service"; per row Kubernetes (the manifests drawer) and
 * Delete. Re-read every 2 s.
 */
export default function ServicesPage({ kind }: { kind: ServiceCollection }) {
  const info = SERVICE_KINDS[kind];
  const { me } = useAuth();
  const { message } = App.useApp();
  const [params, setParams] = useSearchParams();
  const project = params.get('project') ?? ALL_PROJECTS;
  const [items, setItems] = useState<Service[]>([]);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const [manifestsOf, setManifestsOf] = useState<Service | null>(null);

  const load = useCallback(
    async (quiet = false) => {
      if (!quiet) setLoading(true);
      try {
        const res = await api.listServices(info.coll, project || undefined);
        setItems(res.items ?? []);
        setLoadError(null);
      } catch (e) {
        if (!quiet) setItems([]);
        setLoadError(errorText(e));
      } finally {
        if (!quiet) setLoading(false);
      }
    },
    [info.coll, project],
  );

  useEffect(() => {
    void load();
    const t = setInterval(() => void load(true), 2000);
    return () => clearInterval(t);
  }, [load]);

  const setProject = (p: string) => {
    const next = new URLSearchParams(params);
    if (p) next.set('project', p);
    else next.delete('project');
    setParams(next);
  };

  const remove = async (s: Service) => {
    try {
      await api.deleteService(info.coll, s.id);
      message.success(`${info.Noun} ${s.name} deleted`);
      if (manifestsOf?.id === s.id) setManifestsOf(null);
      void load(true);
    } catch (e) {
      message.error(errorText(e));
    }
  };

  const inference = info.kind === 'InferenceService';

  return (
    <Card
      title={<Typography.Title level={4} style={{ margin: 0 }}>{info.title}</Typography.Title>}
      extra={
        <Space>
          <Typography.Text type="secondary">Project</Typography.Text>
          <ProjectFilter me={me} value={project} onChange={setProject} testId="services-project-filter" />
          <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label={`Reload ${info.noun}s`} />
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} data-testid="new-service">
            New {info.noun}
          </Button>
        </Space>
      }
    >
      {loadError && <Alert type="error" showIcon role="alert" message={loadError} style={{ marginBottom: 16 }} data-testid="services-error" />}
      <Table<Service>
        data-testid="services-table"
        rowKey="id"
        loading={loading}
        dataSource={items}
        pagination={{ hideOnSinglePage: true, pageSize: 50 }}
        onRow={(s) => ({ 'data-testid': `service-row-${s.project}/${s.name}`, 'data-state': s.state }) as HTMLAttributes<HTMLElement>}
        columns={[
          {
            title: 'Name',
            dataIndex: 'name',
            render: (n: string, s) => (
              <Space direction="vertical" size={0}>
                <Link to={`${info.path}/${s.id}`} data-testid={`service-link-${s.project}/${n}`}>
                  {n}
                </Link>
                {s.description && (
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {s.description}
                  </Typography.Text>
                )}
              </Space>
            ),
          },
          { title: 'Project', dataIndex: 'project' },
          ...(inference
            ? [
                {
                  title: 'Model',
                  key: 'model',
                  render: (_: unknown, s: Service) => (
                    <Space direction="vertical" size={0}>
                      <span>
                        {s.model_name} <Typography.Text type="secondary">{s.model_version}</Typography.Text>
                      </span>
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {s.service_type}
                      </Typography.Text>
                    </Space>
                  ),
                },
              ]
            : []),
          {
            title: 'State',
            dataIndex: 'state',
            render: (st: string, s) => (
              <Tooltip title={s.reason || undefined}>
                <span>
                  <StateTag state={st} testId={`service-state-${s.id}`} />
                  {s.kind === 'InferenceService' && <ModelStatusTag status={s.model_status} testId={`model-status-${s.id}`} />}
                </span>
              </Tooltip>
            ),
          },
          {
            title: 'Ready',
            key: 'ready',
            render: (_: unknown, s) => (
              <span data-testid={`service-ready-${s.id}`}>
                {readyReplicas(s)}/{desiredReplicas(s)}
              </span>
            ),
          },
          { title: 'URL', dataIndex: 'url', render: (u: string | undefined, s) => <ServiceUrl url={u} testId={`service-url-${s.id}`} /> },
          { title: 'Generation', dataIndex: 'generation' },
          {
            title: 'Created',
            dataIndex: 'created_at',
            render: (t: string, s) => (
              <Space direction="vertical" size={0}>
                <span>{fmtTimeSec(t)}</span>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {s.created_by}
                </Typography.Text>
              </Space>
            ),
          },
          {
            title: '',
            key: 'actions',
            render: (_: unknown, s) => (
              <Space size={4}>
                <Tooltip title="The objects the kubernetes runtime applies for it">
                  <Button size="small" icon={<DeploymentUnitOutlined />} onClick={() => setManifestsOf(s)} data-testid={`service-manifests-${s.id}`}>
                    Kubernetes
                  </Button>
                </Tooltip>
                <Popconfirm
                  title={`Delete ${info.noun} ${s.name}?`}
                  description="Its replicas are stopped and its hosts stop answering."
                  okText="Delete"
                  okButtonProps={{ danger: true }}
                  onConfirm={() => remove(s)}
                >
                  <Button size="small" danger icon={<DeleteOutlined />} aria-label={`Delete ${s.name}`} data-testid={`service-delete-${s.id}`} />
                </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
      <ServiceFormModal
        info={info}
        open={open}
        initialProject={defaultProject(me, project)}
        onClose={() => setOpen(false)}
        onSaved={(s) => {
          setOpen(false);
          message.success(`${info.Noun} ${s.name} created`);
        }}
      />
      <ManifestsDrawer
        target={manifestsOf && { coll: info.coll, id: manifestsOf.id, name: manifestsOf.name, project: manifestsOf.project }}
        onClose={() => setManifestsOf(null)}
      />
    </Card>
  );
}

import { Alert, App, Button, Card, Form, Input, Popconfirm, Select, Space, Table, Tabs, Typography } from 'antd';
import { DeleteOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { useCallback, useEffect, useMemo, useState, type HTMLAttributes } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, errorText, fmtTime, type Image, type ImageBuild } from '../api';
import FormModal, { useSubmit } from '../components/FormModal';
import { useAuth } from '../auth';
import NewBuildModal from '../components/NewBuildModal';
import { ALL_PROJECTS, BuildStateTag, defaultProject, ProjectFilter, projectOptions, SourceTag } from '../components/images';

type Tab = 'images' | 'builds';

const none = <Typography.Text type="secondary">—</Typography.Text>;

/**
 * The Images area: the image records of the caller's projects (/images) and the
 * online builds that make them (/images/builds), one tab each, with a project filter
 * kept in the URL (?project=P).
 */
export default function ImagesPage({ tab }: { tab: Tab }) {
  const { me } = useAuth();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const project = params.get('project') ?? ALL_PROJECTS;

  const setProject = (p: string) => {
    const next = new URLSearchParams(params);
    if (p) next.set('project', p);
    else next.delete('project');
    setParams(next);
  };
  const query = project ? `?project=${encodeURIComponent(project)}` : '';

  return (
    <Card
      title={<Typography.Title level={4} style={{ margin: 0 }}>Images</Typography.Title>}
      extra={
        <Space>
          <Typography.Text type="secondary">Project</Typography.Text>
          <ProjectFilter me={me} value={project} onChange={setProject} />
        </Space>
      }
    >
      <Tabs
        activeKey={tab}
        onChange={(k) => navigate((k === 'builds' ? '/images/builds' : '/images') + query)}
        items={[
          { key: 'images', label: <span data-testid="tab-images">Images</span>, children: tab === 'images' ? <ImagesTab project={project} /> : null },
          {
            key: 'builds',
            label: <span data-testid="tab-builds">Image builds</span>,
            children: tab === 'builds' ? <BuildsTab project={project} /> : null,
          },
        ]}
      />
    </Card>
  );
}

function ImagesTab({ project }: { project: string }) {
  const { me } = useAuth();
  const { message } = App.useApp();
  const [items, setItems] = useState<Image[]>([]);
  const [builds, setBuilds] = useState<ImageBuild[]>([]);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const [imgs, blds] = await Promise.all([
        api.listImages(project || undefined),
        // Only to turn "made by build NAME" into a link; the list works without it.
        api.listBuilds(project || undefined).catch(() => ({ items: [] as ImageBuild[] })),
      ]);
      setItems(imgs.items ?? []);
      setBuilds(blds.items ?? []);
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

  const buildIds = useMemo(() => {
    const m = new Map<string, number>();
    for (const b of builds) m.set(`${b.project}\u0000${b.name}`, b.id);
    return m;
  }, [builds]);

  const remove = async (i: Image) => {
    try {
      await api.deleteImage(i.id);
      message.success(`Image ${i.ref} removed from ${i.project}`);
      void load();
    } catch (e) {
      message.error(errorText(e));
    }
  };

  const saveDescription = async (i: Image, description: string) => {
    if (description === i.description) return;
    try {
      await api.updateImage(i.id, description);
      void load();
    } catch (e) {
      message.error(errorText(e));
    }
  };

  return (
    <>
      <Space style={{ marginBottom: 16, width: '100%', justifyContent: 'flex-end' }}>
        <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label="Reload images" />
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} data-testid="register-image">
          Register image
        </Button>
      </Space>
      {loadError && <Alert type="error" showIcon role="alert" message={loadError} style={{ marginBottom: 16 }} data-testid="images-error" />}
      <Table<Image>
        data-testid="images-table"
        rowKey="id"
        loading={loading}
        dataSource={items}
        pagination={{ hideOnSinglePage: true, pageSize: 50 }}
        onRow={(i) => ({ 'data-testid': `image-row-${i.project}/${i.ref}` }) as HTMLAttributes<HTMLElement>}
        columns={[
          { title: 'Image', dataIndex: 'ref', render: (ref: string) => <Typography.Text code copyable={{ text: ref }}>{ref}</Typography.Text> },
          { title: 'Project', dataIndex: 'project' },
          { title: 'Source', dataIndex: 'source', render: (s: string) => <SourceTag source={s} /> },
          {
            title: 'Description',
            dataIndex: 'description',
            render: (d: string, i) => (
              <Typography.Text
                editable={{ onChange: (v) => void saveDescription(i, v), tooltip: 'Edit description', text: d }}
                style={{ margin: 0 }}
              >
                {d}
              </Typography.Text>
            ),
          },
          {
            title: 'Made by build',
            dataIndex: 'build',
            render: (b: string | null, i) => {
              if (!b) return none;
              const id = buildIds.get(`${i.project}\u0000${b}`);
              return id ? (
                <Link to={`/images/builds/${id}`} data-testid={`image-build-link-${b}`}>
                  {b}
                </Link>
              ) : (
                b
              );
            },
          },
          { title: 'Created by', dataIndex: 'created_by' },
          { title: 'Created at', dataIndex: 'created_at', render: (t: string) => fmtTime(t) },
          {
            title: '',
            key: 'actions',
            render: (_: unknown, i) => (
              <Popconfirm
                title={`Remove image ${i.ref} from ${i.project}?`}
                description="Only the record is removed; the container engine keeps the image."
                okText="Delete"
                okButtonProps={{ danger: true }}
                onConfirm={() => remove(i)}
              >
                <Button size="small" danger icon={<DeleteOutlined />} data-testid={`image-delete-${i.id}`} aria-label={`Delete ${i.ref}`} />
              </Popconfirm>
            ),
          },
        ]}
      />
      <RegisterImageModal
        open={open}
        initialProject={defaultProject(me, project)}
        onClose={() => setOpen(false)}
        onCreated={(i) => {
          setOpen(false);
          message.success(`Image ${i.ref} registered in ${i.project}`);
          void load();
        }}
      />
    </>
  );
}

interface RegisterForm {
  project: string;
  ref: string;
  description?: string;
}

function RegisterImageModal(props: { open: boolean; initialProject?: string; onClose: () => void; onCreated: (i: Image) => void }) {
  const { me } = useAuth();
  const [form] = Form.useForm<RegisterForm>();
  const { error, setError, busy, run } = useSubmit();

  const submit = async () => {
    let v: RegisterForm;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    const body: { project?: string; ref: string; description?: string } = { ref: v.ref.trim() };
    if (v.project) body.project = v.project;
    if (v.description) body.description = v.description;
    await run(async () => {
      const i = await api.createImage(body);
      form.resetFields();
      props.onCreated(i);
    });
  };

  return (
    <FormModal
      title="Register image"
      open={props.open}
      okText="Register"
      busy={busy}
      error={error}
      testId="register-image"
      width={600}
      onOk={() => void submit()}
      onClose={props.onClose}
      clearError={() => setError(null)}
    >
      <Form<RegisterForm>
        form={form}
        layout="vertical"
        preserve={false}
        data-testid="register-image-form"
        initialValues={{ project: props.initialProject }}
      >
        <Form.Item label="Project" name="project" rules={[{ required: true, message: 'Choose a project' }]}>
          <Select data-testid="register-image-project" options={projectOptions(me)} showSearch optionFilterProp="label" />
        </Form.Item>
        <Form.Item
          label="Image reference"
          name="ref"
          rules={[{ required: true, whitespace: true, message: 'Enter an image reference' }]}
          extra="An image the container engine can pull or already has, e.g. python:3.11-slim or registry.example.com/team/img:1."
        >
          <Input data-testid="register-image-ref" placeholder="python:3.11-slim" autoFocus spellCheck={false} />
        </Form.Item>
        <Form.Item label="Description" name="description">
          <Input.TextArea data-testid="register-image-description" autoSize={{ minRows: 2, maxRows: 6 }} />
        </Form.Item>
      </Form>
    </FormModal>
  );
}

function BuildsTab({ project }: { project: string }) {
  const { message } = App.useApp();
  const [items, setItems] = useState<ImageBuild[]>([]);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);

  const load = useCallback(
    async (quiet = false) => {
      if (!quiet) setLoading(true);
      try {
        const res = await api.listBuilds(project || undefined);
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

  // While some build is under way, keep the states fresh.
  const active = items.some((b) => b.state === 'pending' || b.state === 'running');
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => void load(true), 3000);
    return () => clearInterval(t);
  }, [active, load]);

  const remove = async (b: ImageBuild) => {
    try {
      await api.deleteBuild(b.id);
      message.success(`Build ${b.name} deleted`);
      void load();
    } catch (e) {
      message.error(errorText(e));
    }
  };

  return (
    <>
      <Space style={{ marginBottom: 16, width: '100%', justifyContent: 'flex-end' }}>
        <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label="Reload image builds" />
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} data-testid="new-build">
          New build
        </Button>
      </Space>
      {loadError && <Alert type="error" showIcon role="alert" message={loadError} style={{ marginBottom: 16 }} data-testid="builds-error" />}
      <Table<ImageBuild>
        data-testid="builds-table"
        rowKey="id"
        loading={loading}
        dataSource={items}
        pagination={{ hideOnSinglePage: true, pageSize: 50 }}
        onRow={(b) => ({ 'data-testid': `build-row-${b.project}/${b.name}` }) as HTMLAttributes<HTMLElement>}
        columns={[
          {
            title: 'Name',
            dataIndex: 'name',
            render: (n: string, b) => (
              <Link to={`/images/builds/${b.id}`} data-testid={`build-link-${b.project}/${n}`}>
                {n}
              </Link>
            ),
          },
          { title: 'Project', dataIndex: 'project' },
          { title: 'Image', dataIndex: 'image', render: (i: string) => <Typography.Text code>{i}</Typography.Text> },
          { title: 'State', dataIndex: 'state', render: (s: string) => <BuildStateTag state={s} /> },
          { title: 'Created by', dataIndex: 'created_by' },
          { title: 'Created at', dataIndex: 'created_at', render: (t: string) => fmtTime(t) },
          { title: 'Finished at', dataIndex: 'finished_at', render: (t: string | null) => (t ? fmtTime(t) : none) },
          {
            title: '',
            key: 'actions',
            render: (_: unknown, b) => (
              <Popconfirm
                title={`Delete build ${b.name}?`}
                description={b.state === 'running' ? 'It is running and will be stopped.' : 'The image it made stays.'}
                okText="Delete"
                okButtonProps={{ danger: true }}
                onConfirm={() => remove(b)}
              >
                <Button size="small" danger icon={<DeleteOutlined />} data-testid={`build-delete-${b.id}`} aria-label={`Delete ${b.name}`} />
              </Popconfirm>
            ),
          },
        ]}
      />
      <NewBuildModal open={open} filterProject={project} onClose={() => setOpen(false)} />
    </>
  );
}

import {
  Alert,
  App,
  AutoComplete,
  Breadcrumb,
  Button,
  Card,
  Descriptions,
  Form,
  Input,
  Popconfirm,
  Result,
  Select,
  Space,
  Spin,
  Table,
  Tag,
  Typography,
} from 'antd';
import { DeleteOutlined, UserAddOutlined } from '@ant-design/icons';
import { useCallback, useEffect, useState, type HTMLAttributes } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ApiError, errorText, fmtTime, ROLES, type Member, type Project, type Role } from '../api';
import { useAuth } from '../auth';
import CubeStudioImport from '../components/CubeStudioImport';
import ExpandEditor from '../components/ExpandEditor';
import RoleTag from '../components/RoleTag';

export default function ProjectDetailPage() {
  const { name = '' } = useParams();
  const { me, refresh } = useAuth();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [project, setProject] = useState<Project | null>(null);
  const [loadError, setLoadError] = useState<ApiError | Error | null>(null);

  const load = useCallback(async () => {
    try {
      setProject(await api.getProject(name));
      setLoadError(null);
    } catch (e) {
      setLoadError(e instanceof Error ? e : new Error(String(e)));
    }
  }, [name]);

  useEffect(() => {
    setProject(null);
    setLoadError(null);
    void load();
  }, [load]);

  if (loadError && !project) {
    return (
      <Result
        status={loadError instanceof ApiError && loadError.status === 404 ? '404' : 'error'}
        title={loadError instanceof ApiError && loadError.status === 404 ? 'Project not found' : 'Cannot load the project'}
        subTitle={<span data-testid="project-error">{loadError.message}</span>}
        extra={<Button onClick={() => navigate('/projects')}>Back to projects</Button>}
      />
    );
  }
  if (!project) {
    return (
      <div style={{ display: 'flex', justifyContent: 'center', marginTop: 80 }}>
        <Spin size="large" />
      </div>
    );
  }

  const isAdmin = me?.user.admin ?? false;
  const canManage = isAdmin || project.role === 'creator';
  // Creating things in a project takes any role in it (the server checks it on every call).
  const canUse = isAdmin || project.role !== null;

  const remove = async () => {
    try {
      await api.deleteProject(project.name);
      message.success(`Project ${project.name} deleted`);
      void refresh().catch(() => undefined);
      navigate('/projects');
    } catch (e) {
      message.error(errorText(e));
    }
  };

  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Breadcrumb items={[{ title: <Link to="/projects">Projects</Link> }, { title: project.name }]} />
      <Card
        title={
          <Space>
            <Typography.Title level={4} style={{ margin: 0 }} data-testid="project-name">
              {project.name}
            </Typography.Title>
            {project.role ? <RoleTag role={project.role} /> : <Tag>admin (not a member)</Tag>}
          </Space>
        }
        extra={
          canManage &&
          project.name !== 'public' && (
            <Popconfirm
              title={`Delete project ${project.name}?`}
              description="Its members lose access to everything in it."
              okText="Delete"
              okButtonProps={{ danger: true }}
              onConfirm={() => remove()}
            >
              <Button danger icon={<DeleteOutlined />} data-testid="delete-project">
                Delete project
              </Button>
            </Popconfirm>
          )
        }
      >
        <Descriptions column={{ xs: 1, md: 3 }} size="small">
          <Descriptions.Item label="Created by">{project.created_by}</Descriptions.Item>
          <Descriptions.Item label="Created at">{fmtTime(project.created_at)}</Descriptions.Item>
          <Descriptions.Item label="Updated at">{fmtTime(project.updated_at)}</Descriptions.Item>
        </Descriptions>
        <DescriptionEditor project={project} canEdit={canManage} onSaved={setProject} />
      </Card>

      <Card title="Expand" data-testid="expand-card">
        <ExpandEditor
          value={project.expand}
          readOnly={!isAdmin}
          readOnlyReason="Only administrators can change expand."
          onSave={async (expand) => {
            setProject(await api.updateProject(project.name, { expand }));
          }}
        />
      </Card>

      <MembersCard project={project} canManage={canManage} onChanged={() => void refresh().catch(() => undefined)} />

      {canUse && <CubeStudioImport project={project.name} />}
    </Space>
  );
}

function DescriptionEditor(props: { project: Project; canEdit: boolean; onSaved: (p: Project) => void }) {
  const { message } = App.useApp();
  const [text, setText] = useState(props.project.description);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setText(props.project.description), [props.project.description]);

  if (!props.canEdit) {
    return (
      <div style={{ marginTop: 16 }}>
        <Typography.Text strong>Description</Typography.Text>
        <Typography.Paragraph data-testid="project-description" style={{ whiteSpace: 'pre-wrap', marginTop: 8 }}>
          {props.project.description || <Typography.Text type="secondary">No description.</Typography.Text>}
        </Typography.Paragraph>
      </div>
    );
  }

  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      props.onSaved(await api.updateProject(props.project.name, { description: text }));
      message.success('Description saved');
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Space direction="vertical" style={{ width: '100%', marginTop: 16 }}>
      <Typography.Text strong>Description</Typography.Text>
      <Input.TextArea
        aria-label="description"
        data-testid="project-description"
        value={text}
        onChange={(e) => setText(e.target.value)}
        autoSize={{ minRows: 2, maxRows: 8 }}
      />
      {error && <Alert type="error" showIcon role="alert" message={error} data-testid="description-error" />}
      <Button onClick={() => void save()} loading={busy} disabled={text === props.project.description} data-testid="description-save">
        Save description
      </Button>
    </Space>
  );
}

interface AddMemberForm {
  username: string;
  role: Role;
}

function MembersCard(props: { project: Project; canManage: boolean; onChanged: () => void }) {
  const { project, canManage } = props;
  const { message } = App.useApp();
  const [members, setMembers] = useState<Member[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [usernames, setUsernames] = useState<string[]>([]);
  const [form] = Form.useForm<AddMemberForm>();

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setMembers((await api.listMembers(project.name)).items ?? []);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setLoading(false);
    }
  }, [project.name]);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    if (!canManage) return;
    api
      .listUsers()
      .then((r) => setUsernames((r.items ?? []).map((u) => u.username)))
      .catch(() => undefined); // only suggestions; the add form still works without them
  }, [canManage]);

  const run = async (what: () => Promise<unknown>, done: string) => {
    setError(null);
    try {
      await what();
      message.success(done);
      props.onChanged();
      return true;
    } catch (e) {
      setError(errorText(e));
      return false;
    } finally {
      void load();
    }
  };

  const add = async (v: AddMemberForm) => {
    setBusy(true);
    const ok = await run(() => api.addMember(project.name, v.username.trim(), v.role), `${v.username.trim()} added as ${v.role}`);
    setBusy(false);
    if (ok) form.resetFields();
  };

  const memberSet = new Set(members.map((m) => m.username));

  return (
    <Card title="Members" data-testid="members-card">
      {error && (
        <Alert
          type="error"
          showIcon
          role="alert"
          closable
          onClose={() => setError(null)}
          message={error}
          style={{ marginBottom: 16 }}
          data-testid="members-error"
        />
      )}
      {canManage && (
        <Form<AddMemberForm>
          form={form}
          layout="inline"
          initialValues={{ role: 'dev' }}
          onFinish={(v) => void add(v)}
          style={{ marginBottom: 16, rowGap: 8 }}
          data-testid="add-member-form"
        >
          <Form.Item name="username" rules={[{ required: true, whitespace: true, message: 'Enter a username' }]}>
            <AutoComplete
              style={{ width: 220 }}
              options={usernames.filter((u) => !memberSet.has(u)).map((u) => ({ value: u }))}
              filterOption={(input, opt) => (opt?.value ?? '').toLowerCase().includes(input.toLowerCase())}
            >
              <Input placeholder="Username" aria-label="Member username" data-testid="add-member-username" />
            </AutoComplete>
          </Form.Item>
          <Form.Item name="role" label="Role">
            <Select
              style={{ width: 120 }}
              aria-label="Member role"
              data-testid="add-member-role"
              options={ROLES.map((r) => ({ value: r, label: r }))}
            />
          </Form.Item>
          <Form.Item>
            <Button type="primary" htmlType="submit" icon={<UserAddOutlined />} loading={busy} data-testid="add-member-submit">
              Add member
            </Button>
          </Form.Item>
        </Form>
      )}
      <Table<Member>
        data-testid="members-table"
        rowKey="username"
        size="middle"
        loading={loading}
        dataSource={members}
        pagination={{ hideOnSinglePage: true, pageSize: 50 }}
        onRow={(m) => ({ 'data-testid': `member-row-${m.username}` }) as HTMLAttributes<HTMLElement>}
        columns={[
          { title: 'Username', dataIndex: 'username' },
          {
            title: 'Role',
            dataIndex: 'role',
            render: (role: Role, m) =>
              canManage ? (
                <Select
                  size="small"
                  style={{ width: 110 }}
                  value={role}
                  aria-label={`Role of ${m.username}`}
                  data-testid={`member-role-${m.username}`}
                  options={ROLES.map((r) => ({ value: r, label: r }))}
                  onChange={(r: Role) => void run(() => api.setMemberRole(project.name, m.username, r), `${m.username} is now ${r}`)}
                />
              ) : (
                <RoleTag role={role} />
              ),
          },
          { title: 'Added at', dataIndex: 'created_at', render: (t: string) => fmtTime(t) },
          ...(canManage
            ? [
                {
                  title: '',
                  key: 'actions',
                  width: 120,
                  render: (_: unknown, m: Member) => (
                    <Popconfirm
                      title={`Remove ${m.username} from ${project.name}?`}
                      okText="Remove"
                      okButtonProps={{ danger: true }}
                      onConfirm={() => run(() => api.removeMember(project.name, m.username), `${m.username} removed`)}
                    >
                      <Button size="small" danger data-testid={`member-remove-${m.username}`}>
                        Remove
                      </Button>
                    </Popconfirm>
                  ),
                },
              ]
            : []),
        ]}
      />
    </Card>
  );
}

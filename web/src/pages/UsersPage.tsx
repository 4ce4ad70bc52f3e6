import { Alert, App, Button, Card, Checkbox, Form, Input, Popconfirm, Result, Space, Switch, Table, Tag, Typography } from 'antd';
import { PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { useCallback, useEffect, useState, type HTMLAttributes } from 'react';
import { api, errorText, fmtTime, type User } from '../api';
import FormModal, { useSubmit } from '../components/FormModal';
import { useAuth } from '../auth';

interface NewUserForm {
  username: string;
  password: string;
  email?: string;
  admin?: boolean;
}

/** Accounts of the platform: list, create, (de)activate, grant admin, delete. Admins only. */
export default function UsersPage() {
  const { me } = useAuth();
  const { message } = App.useApp();
  const [items, setItems] = useState<User[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const isAdmin = me?.user.admin ?? false;

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setItems((await api.listUsers()).items ?? []);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    if (isAdmin) void load();
  }, [isAdmin, load]);

  if (!isAdmin) {
    return <Result status="403" title="Administrators only" subTitle="Only administrators manage users." />;
  }

  const change = async (what: () => Promise<unknown>, done: string) => {
    setError(null);
    try {
      await what();
      message.success(done);
    } catch (e) {
      setError(errorText(e));
    } finally {
      void load();
    }
  };

  const self = me?.user.username;

  return (
    <Card
      title={<Typography.Title level={4} style={{ margin: 0 }}>Users</Typography.Title>}
      extra={
        <Space>
          <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label="Reload users" />
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} data-testid="new-user">
            New user
          </Button>
        </Space>
      }
    >
      {error && (
        <Alert type="error" showIcon role="alert" closable onClose={() => setError(null)} message={error} style={{ marginBottom: 16 }} data-testid="users-error" />
      )}
      <Table<User>
        data-testid="users-table"
        rowKey="username"
        loading={loading}
        dataSource={items}
        pagination={{ hideOnSinglePage: true, pageSize: 50 }}
        onRow={(u) => ({ 'data-testid': `user-row-${u.username}` }) as HTMLAttributes<HTMLElement>}
        columns={[
          { title: 'Username', dataIndex: 'username' },
          { title: 'Email', dataIndex: 'email' },
          {
            title: 'Admin',
            dataIndex: 'admin',
            render: (admin: boolean, u) => (
              <Switch
                size="small"
                checked={admin}
                disabled={u.username === self}
                aria-label={`Admin: ${u.username}`}
                onChange={(v) => void change(() => api.updateUser(u.username, { admin: v }), `${u.username} ${v ? 'is now' : 'is no longer'} an admin`)}
              />
            ),
          },
          {
            title: 'Active',
            dataIndex: 'active',
            render: (active: boolean, u) => (
              <Switch
                size="small"
                checked={active}
                disabled={u.username === self}
                aria-label={`Active: ${u.username}`}
                onChange={(v) => void change(() => api.updateUser(u.username, { active: v }), `${u.username} ${v ? 'activated' : 'deactivated'}`)}
              />
            ),
          },
          { title: 'Created at', dataIndex: 'created_at', render: (t: string) => fmtTime(t) },
          {
            title: '',
            key: 'actions',
            width: 110,
            render: (_: unknown, u) =>
              u.username === self ? (
                <Tag>you</Tag>
              ) : (
                <Popconfirm
                  title={`Delete user ${u.username}?`}
                  okText="Delete"
                  okButtonProps={{ danger: true }}
                  onConfirm={() => change(() => api.deleteUser(u.username), `${u.username} deleted`)}
                >
                  <Button size="small" danger data-testid={`user-delete-${u.username}`}>
                    Delete
                  </Button>
                </Popconfirm>
              ),
          },
        ]}
      />
      <NewUserModal
        open={open}
        onClose={() => setOpen(false)}
        onCreated={(u) => {
          setOpen(false);
          message.success(`User ${u.username} created`);
          void load();
        }}
      />
    </Card>
  );
}

function NewUserModal(props: { open: boolean; onClose: () => void; onCreated: (u: User) => void }) {
  const [form] = Form.useForm<NewUserForm>();
  const { error, setError, busy, run } = useSubmit();

  const submit = async () => {
    let v: NewUserForm;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    await run(async () => {
      const body: NewUserForm = { username: v.username.trim(), password: v.password, admin: !!v.admin };
      if (v.email) body.email = v.email.trim();
      const u = await api.createUser(body);
      form.resetFields();
      props.onCreated(u);
    });
  };

  return (
    <FormModal
      title="New user"
      open={props.open}
      okText="Create"
      busy={busy}
      error={error}
      testId="new-user"
      onOk={() => void submit()}
      onClose={props.onClose}
      clearError={() => setError(null)}
    >
      <Form<NewUserForm> form={form} layout="vertical" preserve={false} data-testid="new-user-form">
        <Form.Item label="Username" name="username" rules={[{ required: true, whitespace: true, message: 'Enter a username' }]}>
          <Input data-testid="new-user-username" autoComplete="off" />
        </Form.Item>
        <Form.Item label="Password" name="password" rules={[{ required: true, message: 'Enter a password' }]}>
          <Input.Password data-testid="new-user-password" autoComplete="new-password" />
        </Form.Item>
        <Form.Item label="Email" name="email">
          <Input data-testid="new-user-email" type="email" />
        </Form.Item>
        <Form.Item name="admin" valuePropName="checked">
          <Checkbox data-testid="new-user-admin">Administrator</Checkbox>
        </Form.Item>
      </Form>
    </FormModal>
  );
}

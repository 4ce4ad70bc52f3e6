import { Alert, App, Button, Card, Form, Input, Space, Table, Tag, Typography } from 'antd';
import { PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router';
import type { HTMLAttributes } from 'react';
import { api, errorText, fmtTime, type Project } from '../api';
import FormModal, { useSubmit } from '../components/FormModal';
import { useAuth } from '../auth';
import { EXPAND_HELP, EXPAND_PLACEHOLDER, parseExpand } from '../components/expand';
import RoleTag from '../components/RoleTag';

interface NewProjectForm {
  name: string;
  description?: string;
  expand?: string;
}

export default function ProjectsPage() {
  const { me, refresh } = useAuth();
  const { message } = App.useApp();
  const [items, setItems] = useState<Project[]>([]);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const res = await api.listProjects();
      setItems(res.items ?? []);
      setLoadError(null);
    } catch (e) {
      setLoadError(errorText(e));
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <Card
      title={<Typography.Title level={4} style={{ margin: 0 }}>Projects</Typography.Title>}
      extra={
        <Space>
          <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label="Reload projects" />
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} data-testid="new-project">
            New project
          </Button>
        </Space>
      }
    >
      {loadError && <Alert type="error" showIcon message={loadError} role="alert" style={{ marginBottom: 16 }} data-testid="projects-error" />}
      <Table<Project>
        data-testid="projects-table"
        rowKey="name"
        loading={loading}
        dataSource={items}
        pagination={{ hideOnSinglePage: true, pageSize: 50 }}
        onRow={(p) => ({ 'data-testid': `project-row-${p.name}` }) as HTMLAttributes<HTMLElement>}
        columns={[
          {
            title: 'Name',
            dataIndex: 'name',
            render: (name: string) => (
              <Link to={`/projects/${encodeURIComponent(name)}`} data-testid={`project-link-${name}`}>
                {name}
              </Link>
            ),
          },
          { title: 'Description', dataIndex: 'description', render: (d: string) => d || <Typography.Text type="secondary">—</Typography.Text> },
          {
            title: 'Your role',
            dataIndex: 'role',
            render: (r: Project['role']) => (r ? <RoleTag role={r} /> : <Tag>admin (not a member)</Tag>),
          },
          { title: 'Created by', dataIndex: 'created_by' },
          { title: 'Created at', dataIndex: 'created_at', render: (t: string) => fmtTime(t) },
        ]}
      />
      <NewProjectModal
        open={open}
        isAdmin={me?.user.admin ?? false}
        onClose={() => setOpen(false)}
        onCreated={(p) => {
          setOpen(false);
          message.success(`Project ${p.name} created`);
          void load();
          void refresh().catch(() => undefined);
        }}
      />
    </Card>
  );
}

function NewProjectModal(props: { open: boolean; isAdmin: boolean; onClose: () => void; onCreated: (p: Project) => void }) {
  const [form] = Form.useForm<NewProjectForm>();
  const { error, setError, busy, run } = useSubmit();

  const submit = async () => {
    let v: NewProjectForm;
    try {
      v = await form.validateFields();
    } catch {
      return; // the form shows what is missing
    }
    const body: { name: string; description?: string; expand?: unknown } = { name: v.name.trim() };
    if (v.description) body.description = v.description;
    if (v.expand && v.expand.trim() !== '') {
      const parsed = parseExpand(v.expand);
      if ('error' in parsed) {
        setError(parsed.error);
        return;
      }
      body.expand = parsed.value;
    }
    await run(async () => {
      const p = await api.createProject(body);
      form.resetFields();
      props.onCreated(p);
    });
  };

  return (
    <FormModal
      title="New project"
      open={props.open}
      okText="Create"
      busy={busy}
      error={error}
      testId="new-project"
      width={640}
      onOk={() => void submit()}
      onClose={props.onClose}
      clearError={() => setError(null)}
    >
      <Form<NewProjectForm> form={form} layout="vertical" data-testid="new-project-form" preserve={false}>
        <Form.Item
          label="Name"
          name="name"
          rules={[{ required: true, whitespace: true, message: 'Enter a project name' }]}
          extra="Lower-case letters, digits and dashes."
        >
          <Input data-testid="new-project-name" autoFocus />
        </Form.Item>
        <Form.Item label="Description" name="description">
          <Input.TextArea data-testid="new-project-description" autoSize={{ minRows: 2, maxRows: 6 }} />
        </Form.Item>
        <Form.Item
          label="Expand (JSON)"
          name="expand"
          extra={props.isAdmin ? EXPAND_HELP : 'Only administrators may set expand; leave it empty.'}
        >
          <Input.TextArea
            data-testid="new-project-expand"
            aria-label="expand"
            placeholder={EXPAND_PLACEHOLDER}
            autoSize={{ minRows: 3, maxRows: 12 }}
            spellCheck={false}
            style={{ fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace' }}
          />
        </Form.Item>
      </Form>
    </FormModal>
  );
}

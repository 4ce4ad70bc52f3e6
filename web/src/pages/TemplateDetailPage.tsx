import { App, Breadcrumb, Button, Card, Collapse, Descriptions, Form, Popconfirm, Result, Space, Spin, Tag, Typography } from 'antd';
import { DeleteOutlined, EditOutlined } from '@ant-design/icons';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ApiError, errorText, fmtTime, type JobTemplate } from '../api';
import ArgsFields from '../components/ArgsForm';
import { MONO } from '../components/images';
import { TemplateEditor } from '../components/TemplateEditor';
import { argsToFields, envToText, schemaOf, shellQuote } from '../components/pipelines';

const none = <Typography.Text type="secondary">—</Typography.Text>;
const pre = { margin: 0, fontFamily: MONO, whiteSpace: 'pre-wrap' as const, wordBreak: 'break-all' as const };

/** One job template: its fields, its parameter schema as the (read-only) form a task gets, and its files. */
export default function TemplateDetailPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const [tpl, setTpl] = useState<JobTemplate | null>(null);
  const [loadError, setLoadError] = useState<Error | null>(null);
  const [editing, setEditing] = useState(false);

  const load = useCallback(async () => {
    try {
      setTpl(await api.getTemplate(id));
      setLoadError(null);
    } catch (e) {
      setLoadError(e instanceof Error ? e : new Error(String(e)));
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load]);

  const schema = useMemo(() => schemaOf(tpl), [tpl]);
  const defaults = useMemo(() => ({ args: argsToFields(schema, {}) }), [schema]);

  if (loadError && !tpl) {
    const missing = loadError instanceof ApiError && loadError.status === 404;
    return (
      <Result
        status={missing ? '404' : 'error'}
        title={missing ? 'Job template not found' : 'Cannot load the job template'}
        subTitle={<span data-testid="template-error">{loadError.message}</span>}
        extra={<Button onClick={() => navigate('/templates')}>Back to job templates</Button>}
      />
    );
  }
  if (!tpl) {
    return (
      <div style={{ display: 'flex', justifyContent: 'center', marginTop: 80 }}>
        <Spin size="large" />
      </div>
    );
  }

  const remove = async () => {
    try {
      await api.deleteTemplate(tpl.id);
      message.success(`Job template ${tpl.name} deleted`);
      navigate('/templates');
    } catch (e) {
      message.error(errorText(e));
    }
  };

  const res = tpl.resources ?? {};
  const files = Object.entries(tpl.files ?? {});
  const env = envToText(tpl.env);

  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Breadcrumb items={[{ title: <Link to="/templates">Job templates</Link> }, { title: `${tpl.project}/${tpl.name}` }]} />
      <TemplateEditor
        open={editing}
        template={tpl}
        project={tpl.project}
        onClose={() => setEditing(false)}
        onSaved={(t) => {
          setEditing(false);
          setTpl(t);
          message.success(`Job template ${t.name} saved`);
        }}
      />
      <Card
        title={
          <Space>
            <Typography.Title level={4} style={{ margin: 0 }} data-testid="template-name">
              {tpl.name}
            </Typography.Title>
            <Tag color={tpl.version === 'Release' ? 'green' : 'orange'}>{tpl.version}</Tag>
          </Space>
        }
        extra={
          <Space>
          <Button icon={<EditOutlined />} onClick={() => setEditing(true)} data-testid="edit-template">
            Edit
          </Button>
          <Popconfirm
            title={`Delete job template ${tpl.name}?`}
            description="The server refuses while a pipeline uses it."
            okText="Delete"
            okButtonProps={{ danger: true }}
            onConfirm={() => remove()}
          >
            <Button danger icon={<DeleteOutlined />} data-testid="delete-template">
              Delete
            </Button>
          </Popconfirm>
          </Space>
        }
      >
        <Descriptions column={{ xs: 1, md: 2 }} size="small" bordered data-testid="template-fields">
          <Descriptions.Item label="Project">{tpl.project}</Descriptions.Item>
          <Descriptions.Item label="Image">
            <Typography.Text code>{tpl.image}</Typography.Text>
          </Descriptions.Item>
          <Descriptions.Item label="Description" span={2}>
            {tpl.description || none}
          </Descriptions.Item>
          <Descriptions.Item label="Command" span={2}>
            {tpl.command?.length ? <pre style={pre} data-testid="template-command">{tpl.command.map(shellQuote).join(' ')}</pre> : none}
          </Descriptions.Item>
          <Descriptions.Item label="Working directory">{tpl.working_dir || none}</Descriptions.Item>
          <Descriptions.Item label="Resources">
            cpu {res.cpu ?? '—'}, memory {res.memory ?? '—'}, gpu {res.gpu ?? '—'}
          </Descriptions.Item>
          <Descriptions.Item label="Env" span={2}>
            {env ? <pre style={pre}>{env}</pre> : none}
          </Descriptions.Item>
          <Descriptions.Item label="Volume mount" span={2}>
            {tpl.volume_mount || none}
          </Descriptions.Item>
          <Descriptions.Item label="Created by">{tpl.created_by}</Descriptions.Item>
          <Descriptions.Item label="Updated at">{fmtTime(tpl.updated_at)}</Descriptions.Item>
        </Descriptions>
      </Card>
      <Card title="Parameters" extra={<Typography.Text type="secondary">the form a task of this template gets (defaults shown)</Typography.Text>}>
        <Form layout="vertical" initialValues={defaults} disabled style={{ maxWidth: 640 }} data-testid="template-args">
          <ArgsFields schema={schema} disabled />
        </Form>
      </Card>
      {files.length > 0 && (
        <Card title="Files" extra={<Typography.Text type="secondary">mounted read-only at /template in every task</Typography.Text>}>
          <Collapse
            items={files.map(([name, text]) => ({
              key: name,
              label: <Typography.Text code>{name}</Typography.Text>,
              children: <pre style={{ ...pre, maxHeight: 480, overflow: 'auto' }}>{text}</pre>,
            }))}
          />
        </Card>
      )}
    </Space>
  );
}

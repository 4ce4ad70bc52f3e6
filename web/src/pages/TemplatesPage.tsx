import { Alert, Button, Card, Space, Table, Tag, Typography } from 'antd';
import { PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { useCallback, useEffect, useState, type HTMLAttributes } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, errorText, fmtTime, type JobTemplate } from '../api';
import { useAuth } from '../auth';
import { ALL_PROJECTS, defaultProject, ProjectFilter } from '../components/images';
import { TemplateEditor } from '../components/TemplateEditor';

/**
 * The Job templates area: the templates of the caller's projects (public's included).
 * Templates are written with `quader apply` (kind: JobTemplate); the list links to each
 * one's page with its parameter form.
 */
export default function TemplatesPage() {
  const { me } = useAuth();
  const [params, setParams] = useSearchParams();
  const project = params.get('project') ?? ALL_PROJECTS;
  const [items, setItems] = useState<JobTemplate[]>([]);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const navigate = useNavigate();

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const res = await api.listTemplates(project || undefined);
      setItems(res.items ?? []);
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

  const setProject = (p: string) => {
    const next = new URLSearchParams(params);
    if (p) next.set('project', p);
    else next.delete('project');
    setParams(next);
  };

  return (
    <Card
      title={<Typography.Title level={4} style={{ margin: 0 }}>Job templates</Typography.Title>}
      extra={
        <Space>
          <Typography.Text type="secondary">Project</Typography.Text>
          <ProjectFilter me={me} value={project} onChange={setProject} testId="templates-project-filter" />
          <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label="Reload templates" />
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="new-template">
            New template
          </Button>
        </Space>
      }
    >
      <TemplateEditor
        open={creating}
        project={defaultProject(me, project) ?? 'public'}
        onClose={() => setCreating(false)}
        onSaved={(t) => {
          setCreating(false);
          navigate(`/templates/${t.id}`);
        }}
      />
      <Typography.Paragraph type="secondary">
        A job template is a reusable task type: an image, a command, a typed parameter schema, resources, env and mounts.
        Write them with <Typography.Text code>quader apply -f template.yaml</Typography.Text> (
        <Typography.Text code>kind: JobTemplate</Typography.Text>); pipelines are built from them.
      </Typography.Paragraph>
      {loadError && <Alert type="error" showIcon role="alert" message={loadError} style={{ marginBottom: 16 }} data-testid="templates-error" />}
      <Table<JobTemplate>
        data-testid="templates-table"
        rowKey="id"
        loading={loading}
        dataSource={items}
        pagination={{ hideOnSinglePage: true, pageSize: 50 }}
        onRow={(t) => ({ 'data-testid': `template-row-${t.project}/${t.name}` }) as HTMLAttributes<HTMLElement>}
        columns={[
          {
            title: 'Name',
            dataIndex: 'name',
            render: (n: string, t) => (
              <Link to={`/templates/${t.id}`} data-testid={`template-link-${t.project}/${n}`}>
                {n}
              </Link>
            ),
          },
          { title: 'Project', dataIndex: 'project' },
          { title: 'Image', dataIndex: 'image', render: (i: string) => <Typography.Text code>{i}</Typography.Text> },
          {
            title: 'Version',
            dataIndex: 'version',
            render: (v: string) => <Tag color={v === 'Release' ? 'green' : 'orange'}>{v}</Tag>,
          },
          { title: 'Description', dataIndex: 'description', render: (d: string) => d || <Typography.Text type="secondary">—</Typography.Text> },
          { title: 'Updated at', dataIndex: 'updated_at', render: (t: string) => fmtTime(t) },
        ]}
      />
    </Card>
  );
}

import { Alert, Button, Card, Form, Input, Select, Space, Table, Typography } from 'antd';
import { PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { useCallback, useEffect, useState, type HTMLAttributes } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, errorText, type Dataset } from '../api';
import { useAuth } from '../auth';
import FormModal, { useSubmit } from '../components/FormModal';
import { ALL_PROJECTS, ProjectFilter, defaultProject, projectOptions } from '../components/images';
import { fmtTimeSec } from '../components/pipelines';

/**
 * The Data sets area (docs/datasets.md): the data sets of the projects the user is in
 * (?project=P filters), each with its number of versions. A data set is made here (or on
 * its first `quader dataset upload`); its page uploads files as versions and previews them.
 */
export default function DatasetsPage() {
  const { me } = useAuth();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const project = params.get('project') ?? ALL_PROJECTS;
  const [items, setItems] = useState<Dataset[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const submit = useSubmit();
  const [form] = Form.useForm<{ project: string; name: string; description?: string }>();

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setItems((await api.listDatasets(project || undefined)).items ?? []);
      setError(null);
    } catch (e) {
      setItems([]);
      setError(errorText(e));
    } finally {
      setLoading(false);
    }
  }, [project]);

  useEffect(() => {
    void load();
  }, [load]);

  const create = () =>
    submit.run(async () => {
      const v = await form.validateFields();
      const d = await api.createDataset({ project: v.project, name: v.name.trim(), description: v.description });
      setCreating(false);
      navigate(`/datasets/${d.id}`);
    });

  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Card
        title={<Typography.Title level={4} style={{ margin: 0 }}>Data sets</Typography.Title>}
        extra={
          <Space wrap>
            <ProjectFilter
              me={me}
              value={project}
              testId="datasets-project-filter"
              onChange={(v) => {
                const next = new URLSearchParams(params);
                if (v) next.set('project', v);
                else next.delete('project');
                setParams(next);
              }}
            />
            <Button icon={<ReloadOutlined />} onClick={() => void load()} data-testid="datasets-reload">
              Reload
            </Button>
            <Button
              type="primary"
              icon={<PlusOutlined />}
              data-testid="dataset-new"
              onClick={() => {
                form.setFieldsValue({ project: defaultProject(me, project), name: '', description: '' });
                setCreating(true);
              }}
            >
              New data set
            </Button>
          </Space>
        }
      >
        {error && <Alert type="error" showIcon style={{ marginBottom: 16 }} message={error} />}
        <Typography.Paragraph type="secondary">
          A task reads a version as <Typography.Text code>datasets: [NAME@VERSION]</Typography.Text>, mounted read-only at{' '}
          <Typography.Text code>/datasets/NAME</Typography.Text> (docs/datasets.md).
        </Typography.Paragraph>
        <Table<Dataset>
          data-testid="datasets-table"
          rowKey="id"
          loading={loading}
          dataSource={items}
          pagination={false}
          scroll={{ x: true }}
          locale={{ emptyText: 'No data sets yet' }}
          onRow={(d) => ({ 'data-testid': `dataset-row-${d.name}` }) as HTMLAttributes<HTMLElement>}
          columns={[
            { title: 'Name', dataIndex: 'name', render: (n: string, d) => <Link to={`/datasets/${d.id}`} data-testid={`dataset-link-${n}`}>{n}</Link> },
            { title: 'Project', dataIndex: 'project' },
            { title: 'Versions', dataIndex: 'versions' },
            { title: 'Latest', dataIndex: 'latest_version', render: (v: number | null) => (v ? `v${v}` : '—') },
            { title: 'Description', dataIndex: 'description', ellipsis: true },
            { title: 'Created by', dataIndex: 'created_by' },
            { title: 'Updated', dataIndex: 'updated_at', render: (t: string) => fmtTimeSec(t) },
          ]}
        />
      </Card>
      <FormModal
        title="New data set"
        open={creating}
        okText="Create"
        busy={submit.busy}
        error={submit.error}
        testId="dataset-create"
        onOk={() => void create()}
        onClose={() => setCreating(false)}
        clearError={() => submit.setError(null)}
      >
        <Form form={form} layout="vertical">
          <Form.Item name="project" label="Project" rules={[{ required: true }]}>
            <Select options={projectOptions(me)} data-testid="dataset-project" />
          </Form.Item>
          <Form.Item name="name" label="Name" rules={[{ required: true, message: 'a name: lower-case letters, digits and -' }]}>
            <Input data-testid="dataset-name" placeholder="iris" />
          </Form.Item>
          <Form.Item name="description" label="Description">
            <Input data-testid="dataset-description" />
          </Form.Item>
        </Form>
      </FormModal>
    </Space>
  );
}

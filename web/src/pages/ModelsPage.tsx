import { Alert, Button, Card, Space, Table, Typography } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import { useCallback, useEffect, useState, type HTMLAttributes } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, errorText, type Model } from '../api';
import { useAuth } from '../auth';
import { ALL_PROJECTS, ProjectFilter } from '../components/images';
import { fmtTimeSec } from '../components/pipelines';

/**
 * The Models area (docs/models.md): the registry's models of the projects the user is
 * in (?project=P filters), each with its number of versions and the latest. Versions are
 * registered from a run's task (`quader model register`, the API); a model's page shows
 * them side by side.
 */
export default function ModelsPage() {
  const { me } = useAuth();
  const [params, setParams] = useSearchParams();
  const project = params.get('project') ?? ALL_PROJECTS;
  const [items, setItems] = useState<Model[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setItems((await api.listModels(project || undefined)).items ?? []);
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

  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Card
        title={<Typography.Title level={4} style={{ margin: 0 }}>Models</Typography.Title>}
        extra={
          <Space wrap>
            <ProjectFilter
              me={me}
              value={project}
              testId="models-project-filter"
              onChange={(v) => {
                const next = new URLSearchParams(params);
                if (v) next.set('project', v);
                else next.delete('project');
                setParams(next);
              }}
            />
            <Button icon={<ReloadOutlined />} onClick={() => void load()} data-testid="models-reload">
              Reload
            </Button>
          </Space>
        }
      >
        {error && <Alert type="error" showIcon style={{ marginBottom: 16 }} message={error} />}
        <Typography.Paragraph type="secondary">
          A version is registered from a task that succeeded: <Typography.Text code>quader model register NAME --run RUN --task TASK --framework sklearn</Typography.Text> (docs/models.md).
        </Typography.Paragraph>
        <Table<Model>
          data-testid="models-table"
          rowKey="id"
          loading={loading}
          dataSource={items}
          pagination={false}
          scroll={{ x: true }}
          locale={{ emptyText: 'No models yet' }}
          onRow={(m) => ({ 'data-testid': `model-row-${m.name}` }) as HTMLAttributes<HTMLElement>}
          columns={[
            { title: 'Name', dataIndex: 'name', render: (n: string, m) => <Link to={`/models/${m.id}`} data-testid={`model-link-${n}`}>{n}</Link> },
            { title: 'Project', dataIndex: 'project' },
            { title: 'Versions', dataIndex: 'versions' },
            { title: 'Latest', dataIndex: 'latest_version', render: (v: number | null) => (v ? `v${v}` : '—') },
            { title: 'Created by', dataIndex: 'created_by' },
            { title: 'Updated', dataIndex: 'updated_at', render: (t: string) => fmtTimeSec(t) },
          ]}
        />
      </Card>
    </Space>
  );
}

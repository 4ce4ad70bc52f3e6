import { Alert, App, Breadcrumb, Button, Card, Descriptions, Empty, Input, Modal, Popconfirm, Progress, Result, Space, Spin, Table, Tag, Typography } from 'antd';
import { CloudUploadOutlined, DeleteOutlined, DownloadOutlined, EyeOutlined } from '@ant-design/icons';
import { useCallback, useEffect, useMemo, useState, type HTMLAttributes, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, errorText, type Dataset, type DatasetPreview, type DatasetVersion } from '../api';
import { saveBlob } from '../components/download';
import { MONO } from '../components/images';
import { fmtBytes, fmtTimeSec } from '../components/pipelines';

/** Where a version came from: an upload, a run's task (a link to it), or a directory. */
function Source({ v }: { v: DatasetVersion }) {
  const s = v.source ?? {};
  if (s.kind === 'task' && s.run) {
    return (
      <Link to={`/runs/${s.run}?task=${encodeURIComponent(s.task ?? '')}`} data-testid={`dataset-source-${v.version}`}>
        run {s.run} · {s.pipeline} / {s.task} (attempt {s.attempt})
      </Link>
    );
  }
  if (s.kind === 'volume') return <span data-testid={`dataset-source-${v.version}`}>{s.path}</span>;
  return <span data-testid={`dataset-source-${v.version}`}>upload</span>;
}

/** A preview as the server computed it: a table with typed columns, JSON, text, or an image. */
function PreviewBody({ p, image }: { p: DatasetPreview; image: string | null }): ReactNode {
  const pre = (text: string) => (
    <pre data-testid="dataset-preview-text" style={{ maxHeight: 480, overflow: 'auto', fontFamily: MONO, fontSize: 12.5, whiteSpace: 'pre-wrap', wordBreak: 'break-all', margin: 0 }}>
      {text}
    </pre>
  );
  if (p.kind === 'table') {
    const columns = p.columns ?? [];
    return (
      <Space direction="vertical" style={{ width: '100%' }}>
        <Typography.Text data-testid="dataset-preview-rows">
          {p.row_count} rows · {columns.length} columns
        </Typography.Text>
        <Table<{ key: number; cells: string[] }>
          data-testid="dataset-preview-table"
          size="small"
          pagination={false}
          scroll={{ x: true, y: 420 }}
          dataSource={(p.rows as string[][] | undefined ?? []).map((cells, i) => ({ key: i, cells }))}
          columns={columns.map((c, i) => ({
            key: `c${i}`,
            title: (
              <span data-testid={`dataset-column-${c.name}`}>
                {c.name} <Tag>{c.type}</Tag>
              </span>
            ),
            render: (_: unknown, r: { cells: string[] }) => r.cells[i] ?? '',
          }))}
        />
      </Space>
    );
  }
  if (p.kind === 'image') return image ? <img data-testid="dataset-preview-image" alt={p.path} src={image} style={{ maxWidth: '100%' }} /> : <Spin />;
  if (p.kind === 'json' && p.value !== undefined) return pre(JSON.stringify(p.value, null, 2));
  if (p.kind === 'jsonl') return pre(`${p.row_count} lines\n` + (p.rows ?? []).map((r) => JSON.stringify(r)).join('\n'));
  if (p.head !== undefined) return pre(p.head + (p.truncated ? '\n…' : ''));
  return <Empty description={`${p.kind} file, ${fmtBytes(p.size)}: download it to look inside`} />;
}

/**
 * One data set: upload files as its next version (with progress), its versions with their
 * files (previewed as the server reads them, downloaded checked against their SHA-256),
 * where each came from and which runs read it.
 */
export default function DatasetPage() {
  const { id } = useParams();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [dataset, setDataset] = useState<Dataset | null>(null);
  const [reads, setReads] = useState<Record<number, DatasetVersion['read_by']>>({});
  const [error, setError] = useState<string | null>(null);
  const [files, setFiles] = useState<File[]>([]);
  const [description, setDescription] = useState('');
  const [progress, setProgress] = useState<Record<string, number>>({});
  const [uploading, setUploading] = useState(false);
  const [preview, setPreview] = useState<{ p: DatasetPreview; image: string | null } | null>(null);

  const load = useCallback(async () => {
    try {
      const d = await api.getDataset(Number(id));
      setDataset(d);
      setError(null);
      const details = await Promise.all((d.version_list ?? []).slice(0, 20).map((v) => api.getDatasetVersion(d.id, v.version).catch(() => v)));
      setReads(Object.fromEntries(details.map((v) => [v.version, v.read_by ?? []])));
    } catch (e) {
      setError(errorText(e));
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load]);

  const versions = useMemo(() => dataset?.version_list ?? [], [dataset]);

  if (error && !dataset) {
    return (
      <div data-testid="dataset-error">
        <Result status="warning" title="Cannot show this data set" subTitle={error} />
      </div>
    );
  }
  if (!dataset) return <Spin />;

  const upload = async () => {
    setUploading(true);
    try {
      const ids: number[] = [];
      for (const f of files) {
        const name = (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name;
        const up = await api.uploadDatasetFile(dataset.id, name, f, (sent, total) =>
          setProgress((p) => ({ ...p, [name]: total ? Math.round((sent * 100) / total) : 100 })),
        );
        ids.push(up.id);
      }
      const v = await api.createDatasetVersion(dataset.id, { uploads: ids, description: description || undefined });
      message.success(`${v.ref}: ${v.file_count} files, ${fmtBytes(v.size_bytes)}`);
      setFiles([]);
      setDescription('');
      setProgress({});
      await load();
    } catch (e) {
      message.error(errorText(e));
    } finally {
      setUploading(false);
    }
  };
  const show = async (v: DatasetVersion, path: string) => {
    try {
      const p = await api.previewDatasetFile(dataset.id, v.version, path);
      setPreview({ p, image: null });
      if (p.kind === 'image') {
        const blob = await api.fetchDatasetFile(dataset.id, v.version, path);
        setPreview({ p, image: URL.createObjectURL(blob) });
      }
    } catch (e) {
      message.error(errorText(e));
    }
  };
  const download = async (v: DatasetVersion, path: string) => {
    try {
      saveBlob(await api.fetchDatasetFile(dataset.id, v.version, path), path.split('/').pop() ?? 'file');
    } catch (e) {
      message.error(errorText(e));
    }
  };
  const removeVersion = async (v: DatasetVersion) => {
    try {
      await api.deleteDatasetVersion(dataset.id, v.version);
      message.success(`${v.ref} deleted`);
      await load();
    } catch (e) {
      message.error(errorText(e));
    }
  };
  const remove = async () => {
    try {
      await api.deleteDataset(dataset.id);
      navigate(`/datasets?project=${encodeURIComponent(dataset.project)}`);
    } catch (e) {
      message.error(errorText(e));
    }
  };

  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Breadcrumb items={[{ title: <Link to="/datasets">Data sets</Link> }, { title: dataset.name }]} />
      <Card
        title={
          <Space>
            <Typography.Title level={4} style={{ margin: 0 }} data-testid="dataset-title">
              {dataset.name}
            </Typography.Title>
            <Tag>{dataset.project}</Tag>
          </Space>
        }
        extra={
          <Popconfirm title={`Delete ${dataset.name} and its ${dataset.versions} versions?`} okText="Delete" okButtonProps={{ danger: true }} onConfirm={() => void remove()}>
            <Button danger icon={<DeleteOutlined />} data-testid="dataset-delete">
              Delete
            </Button>
          </Popconfirm>
        }
      >
        {error && <Alert type="error" showIcon style={{ marginBottom: 16 }} message={error} />}
        <Descriptions size="small" column={{ xs: 1, md: 3 }}>
          <Descriptions.Item label="Description">{dataset.description || '—'}</Descriptions.Item>
          <Descriptions.Item label="Created by">{dataset.created_by}</Descriptions.Item>
          <Descriptions.Item label="Updated">{fmtTimeSec(dataset.updated_at)}</Descriptions.Item>
          <Descriptions.Item label="In a task">
            <Typography.Text code>datasets: [{dataset.name}]</Typography.Text> → /datasets/{dataset.name}
          </Descriptions.Item>
        </Descriptions>
      </Card>
      <Card title={`Upload version ${(dataset.latest_version ?? 0) + 1}`} size="small">
        <Space direction="vertical" style={{ width: '100%' }}>
          <input
            type="file"
            multiple
            data-testid="dataset-files"
            onChange={(e) => setFiles(Array.from(e.target.files ?? []))}
          />
          <Input placeholder="What this version is (optional)" value={description} onChange={(e) => setDescription(e.target.value)} data-testid="dataset-version-description" />
          {files.map((f) => (
            <Space key={f.name} style={{ width: '100%' }}>
              <Typography.Text style={{ minWidth: 200 }}>{f.name}</Typography.Text>
              <Typography.Text type="secondary">{fmtBytes(f.size)}</Typography.Text>
              <Progress percent={progress[f.name] ?? 0} size="small" style={{ width: 240 }} data-testid={`dataset-progress-${f.name}`} />
            </Space>
          ))}
          <Button type="primary" icon={<CloudUploadOutlined />} disabled={files.length === 0} loading={uploading} onClick={() => void upload()} data-testid="dataset-upload">
            Upload as a new version
          </Button>
        </Space>
      </Card>
      <Card title="Versions" size="small" extra={<Typography.Text type="secondary">newest first</Typography.Text>}>
        <Table<DatasetVersion>
          data-testid="dataset-versions"
          rowKey="version"
          dataSource={versions}
          pagination={false}
          scroll={{ x: true }}
          locale={{ emptyText: 'No versions yet: upload files above, or quader dataset upload NAME FILE' }}
          onRow={(v) => ({ 'data-testid': `dataset-version-row-${v.version}` }) as HTMLAttributes<HTMLElement>}
          expandable={{
            expandedRowRender: (v) => (
              <Space direction="vertical" style={{ width: '100%' }} data-testid={`dataset-version-files-${v.version}`}>
                {v.files.map((f) => (
                  <Space key={f.path} wrap>
                    <Typography.Text code>{f.path}</Typography.Text>
                    <Typography.Text type="secondary">{fmtBytes(f.size)}</Typography.Text>
                    <Typography.Text type="secondary" code>
                      sha256 {f.sha256.slice(0, 16)}…
                    </Typography.Text>
                    <Button size="small" icon={<EyeOutlined />} onClick={() => void show(v, f.path)} data-testid={`dataset-preview-${v.version}-${f.path}`}>
                      Preview
                    </Button>
                    <Button size="small" icon={<DownloadOutlined />} onClick={() => void download(v, f.path)} data-testid={`dataset-file-${v.version}-${f.path}`}>
                      Download
                    </Button>
                  </Space>
                ))}
                {v.description && <Typography.Text>{v.description}</Typography.Text>}
              </Space>
            ),
          }}
          columns={[
            { title: 'Version', dataIndex: 'ref', render: (r: string) => <b>{r}</b> },
            { title: 'Files', key: 'files', render: (_: unknown, v) => `${v.file_count} · ${fmtBytes(v.size_bytes)}` },
            { title: 'Made from', key: 'source', render: (_: unknown, v) => <Source v={v} /> },
            {
              title: 'Read by',
              key: 'reads',
              render: (_: unknown, v) => (
                <Space wrap data-testid={`dataset-reads-${v.version}`}>
                  {(reads[v.version] ?? []).length === 0
                    ? '—'
                    : (reads[v.version] ?? []).map((r) =>
                        r.kind === 'run' ? (
                          <Link key={`${r.kind}-${r.id}-${r.detail}`} to={`/runs/${r.id}?task=${encodeURIComponent(r.detail)}`}>
                            <Tag color="blue">run {r.id} / {r.detail}</Tag>
                          </Link>
                        ) : (
                          <Tag key={`${r.kind}-${r.id}-${r.detail}`}>
                            {r.kind} {r.id} {r.detail}
                          </Tag>
                        ),
                      )}
                </Space>
              ),
            },
            { title: 'Made', key: 'made', render: (_: unknown, v) => `${v.created_by}, ${fmtTimeSec(v.created_at)}` },
            {
              title: '',
              key: 'delete',
              render: (_: unknown, v) => (
                <Popconfirm title={`Delete ${v.ref}?`} okText="Delete" okButtonProps={{ danger: true }} onConfirm={() => void removeVersion(v)}>
                  <Button size="small" danger icon={<DeleteOutlined />} data-testid={`dataset-version-delete-${v.version}`} />
                </Popconfirm>
              ),
            },
          ]}
        />
      </Card>
      <Modal open={preview !== null} title={preview?.p.path} footer={null} width={960} onCancel={() => setPreview(null)} destroyOnHidden>
        <div data-testid="dataset-preview">{preview && <PreviewBody p={preview.p} image={preview.image} />}</div>
      </Modal>
    </Space>
  );
}

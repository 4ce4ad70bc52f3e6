import { DownloadOutlined, EyeOutlined, ReloadOutlined } from '@ant-design/icons';
import { Alert, Button, Empty, Modal, Space, Table, Typography } from 'antd';
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { api, errorText, type Artifact, type ArtifactList } from '../api';
import { saveBlob } from './download';
import { MONO } from './images';
import { fmtBytes, fmtTimeSec } from './pipelines';

/** What a preview shows at most. */
const PREVIEW_BYTES = 256 * 1024;
const CSV_ROWS = 50;

type Kind = 'image' | 'csv' | 'json' | 'text' | null;

/** How a file is previewed, by its name (the server serves the same types inline). */
function kindOf(path: string): Kind {
  const p = path.toLowerCase();
  if (/\.(png|jpe?g|gif|webp)$/.test(p)) return 'image';
  if (/\.(csv|tsv)$/.test(p)) return 'csv';
  if (p.endsWith('.json')) return 'json';
  if (/\.(txt|log|md|py|ya?ml)$/.test(p)) return 'text';
  return null;
}

/** The first rows of a CSV or TSV text, split naively on the separator (a preview, not a parser). */
function csvRows(text: string, tsv: boolean): string[][] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.length > 0)
    .slice(0, CSV_ROWS + 1)
    .map((l) => l.split(tsv ? '\t' : ','));
}

/**
 * The files a task or a trial left in /outputs (GET `${base}/artifacts`): a table with
 * a preview (text, CSV as a table, JSON, images) and a download of each file. Links the
 * workload made are listed, never followed. `refresh` changes reload the list (a task
 * that just ended).
 */
export function Artifacts({ base, refresh, testId = 'artifacts' }: { base: string; refresh?: unknown; testId?: string }) {
  const [list, setList] = useState<ArtifactList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [preview, setPreview] = useState<{ path: string; body: ReactNode } | null>(null);

  const load = useCallback(() => {
    setLoading(true);
    api
      .listArtifacts(base)
      .then((l) => {
        setList(l);
        setError(null);
      })
      .catch((e: unknown) => setError(errorText(e)))
      .finally(() => setLoading(false));
  }, [base]);

  useEffect(() => {
    load();
  }, [load, refresh]);

  const download = async (a: Artifact) => {
    try {
      saveBlob(await api.fetchArtifact(base, a.path), a.path.split('/').pop() ?? 'artifact');
    } catch (e) {
      setError(errorText(e));
    }
  };

  const show = async (a: Artifact) => {
    const kind = kindOf(a.path);
    try {
      const blob = await api.fetchArtifact(base, a.path);
      let body: ReactNode;
      if (kind === 'image') {
        body = <img data-testid="artifact-preview-image" alt={a.path} src={URL.createObjectURL(blob)} style={{ maxWidth: '100%' }} />;
      } else {
        const text = await blob.slice(0, PREVIEW_BYTES).text();
        if (kind === 'csv') {
          const rows = csvRows(text, a.path.toLowerCase().endsWith('.tsv'));
          const [head, ...rest] = rows;
          body = (
            <div style={{ overflow: 'auto', maxHeight: 480 }}>
              <table data-testid="artifact-preview-table" style={{ borderCollapse: 'collapse', fontFamily: MONO, fontSize: 12.5 }}>
                <thead>
                  <tr>{(head ?? []).map((h, i) => <th key={i} style={{ border: '1px solid #ddd', padding: '2px 8px', background: '#fafafa' }}>{h}</th>)}</tr>
                </thead>
                <tbody>
                  {rest.map((r, i) => (
                    <tr key={i}>{r.map((c, j) => <td key={j} style={{ border: '1px solid #eee', padding: '2px 8px' }}>{c}</td>)}</tr>
                  ))}
                </tbody>
              </table>
              {rows.length > CSV_ROWS && <Typography.Text type="secondary">the first {CSV_ROWS} rows</Typography.Text>}
            </div>
          );
        } else {
          let shown = text;
          if (kind === 'json') {
            try {
              shown = JSON.stringify(JSON.parse(text), null, 2);
            } catch {
              shown = text; // cut, or not JSON after all: as it is
            }
          }
          body = (
            <pre data-testid="artifact-preview-text" style={{ maxHeight: 480, overflow: 'auto', fontFamily: MONO, fontSize: 12.5, whiteSpace: 'pre-wrap', wordBreak: 'break-all', margin: 0 }}>
              {shown}
              {blob.size > PREVIEW_BYTES ? '\n…' : ''}
            </pre>
          );
        }
      }
      setPreview({ path: a.path, body });
    } catch (e) {
      setError(errorText(e));
    }
  };

  const items = list?.items ?? [];
  return (
    <div style={{ marginTop: 16 }} data-testid={testId}>
      <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 8 }}>
        <Space>
          <Typography.Text strong>Artifacts</Typography.Text>
          {list && (
            <Typography.Text type="secondary">
              /outputs: {items.filter((a) => a.type === 'file').length} files, {fmtBytes(list.total_bytes)}
              {list.truncated ? ' (list cut)' : ''}
            </Typography.Text>
          )}
        </Space>
        <Button size="small" icon={<ReloadOutlined />} loading={loading} onClick={load} data-testid={`${testId}-reload`}>
          Reload
        </Button>
      </Space>
      {error && <Alert type="error" showIcon role="alert" style={{ marginBottom: 8 }} message={error} data-testid={`${testId}-error`} />}
      {items.length === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="Nothing in /outputs" />
      ) : (
        <Table<Artifact>
          size="small"
          rowKey="path"
          pagination={items.length > 20 ? { pageSize: 20 } : false}
          scroll={{ x: 'max-content' }}
          dataSource={items}
          onRow={(a) => ({ 'data-testid': `artifact-row-${a.path}` }) as React.HTMLAttributes<HTMLElement>}
          columns={[
            { title: 'Path', dataIndex: 'path', render: (p: string) => <Typography.Text code>{p}</Typography.Text> },
            { title: 'Type', dataIndex: 'type' },
            { title: 'Size', dataIndex: 'size', render: (s?: number) => (s === undefined ? '' : fmtBytes(s)) },
            { title: 'Modified', dataIndex: 'modified_at', render: (t: string) => fmtTimeSec(t) },
            {
              title: '',
              key: 'actions',
              render: (_: unknown, a) =>
                a.type === 'file' ? (
                  <Space>
                    {kindOf(a.path) && (
                      <Button size="small" icon={<EyeOutlined />} onClick={() => void show(a)} data-testid={`artifact-preview-${a.path}`}>
                        Preview
                      </Button>
                    )}
                    <Button size="small" icon={<DownloadOutlined />} onClick={() => void download(a)} data-testid={`artifact-download-${a.path}`}>
                      Download
                    </Button>
                  </Space>
                ) : a.type === 'link' ? (
                  <Typography.Text type="secondary">a link: not followed</Typography.Text>
                ) : null,
            },
          ]}
        />
      )}
      <Modal open={preview !== null} title={preview?.path} footer={null} width={900} onCancel={() => setPreview(null)} destroyOnClose>
        <div data-testid="artifact-preview">{preview?.body}</div>
      </Modal>
    </div>
  );
}

import { Alert, Button, Card, Space, Table, Tag, Typography, Upload, type UploadFile } from 'antd';
import { ImportOutlined, InboxOutlined } from '@ant-design/icons';
import { useState, type HTMLAttributes } from 'react';
import { Link } from 'react-router';
import { api, ApiError, errorText, type ImportResult } from '../api';

const OUTCOME_COLORS: Record<string, string> = { created: 'green', updated: 'blue', unchanged: 'default', refused: 'red' };
const OUTCOMES = ['created', 'updated', 'unchanged', 'refused'] as const;

/** Where each imported kind is listed (the list pages take `?project=`). */
const KIND_PAGES: [kind: string, label: string, path: string][] = [
  ['JobTemplate', 'job templates', '/templates'],
  ['Pipeline', 'pipelines', '/pipelines'],
  ['Service', 'services', '/services'],
  ['InferenceService', 'inference services', '/inference-services'],
  ['Experiment', 'experiments', '/experiments'],
];

interface Row extends ImportResult {
  key: number;
  file: string;
}

/** A file's text, or why it cannot be sent: checked for every file before any is sent. */
async function readExport(file: File): Promise<{ text: string } | { error: string }> {
  let text: string;
  try {
    text = await file.text();
  } catch (e) {
    return { error: `${file.name}: cannot read: ${errorText(e)}` };
  }
  if (!text.trim()) return { error: `${file.name}: the file is empty` };
  try {
    JSON.parse(text);
  } catch (e) {
    return { error: `${file.name}: not a JSON file (cube-studio exports are JSON): ${errorText(e)}` };
  }
  return { text };
}

/**
 * "Import from cube-studio" on a project's page: cube-studio export files (job
 * templates, pipelines, services, inference services, AutoML experiments; JSON) are
 * sent one by one, in the order listed, to POST /projects/{p}/import/cube-studio, and
 * each object's outcome is shown. Every file is read and parsed before any is sent, so
 * a file that is not JSON imports nothing; a file the server refuses as a whole stops
 * the files after it (those before it stay imported, as with `quader import cube-studio`).
 */
export default function CubeStudioImport({ project }: { project: string }) {
  const [files, setFiles] = useState<UploadFile[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [rows, setRows] = useState<Row[] | null>(null);

  const submit = async () => {
    setBusy(true);
    setError(null);
    setRows(null);
    try {
      const texts: { name: string; text: string }[] = [];
      for (const f of files) {
        if (!f.originFileObj) continue;
        const read = await readExport(f.originFileObj);
        if ('error' in read) {
          setError(`${read.error}. Nothing was imported.`);
          return;
        }
        texts.push({ name: f.name, text: read.text });
      }
      const done: Row[] = [];
      let failed = false;
      for (const [i, { name, text }] of texts.entries()) {
        try {
          const reply = await api.importCubeStudio(project, text);
          for (const r of reply.results ?? []) done.push({ ...r, key: done.length, file: name });
        } catch (e) {
          // The server refuses a file as a whole (4xx) before applying any of it; after a
          // network failure or a server error nobody knows how far it got.
          const refused = e instanceof ApiError && e.status >= 400 && e.status < 500;
          const rest = texts.length - i - 1;
          const notSent = rest > 0 ? `; the ${rest} file${rest === 1 ? '' : 's'} after it ${rest === 1 ? 'was' : 'were'} not sent` : '';
          const what = refused ? 'nothing of this file was imported' : 'some of this file may be imported: import it again to see';
          setError(`${name}: ${errorText(e)} (${what}${notSent})`);
          failed = true;
          break;
        }
      }
      setRows(done.length > 0 ? done : null);
      if (!failed) setFiles([]);
    } finally {
      setBusy(false);
    }
  };

  const counts = new Map<string, number>();
  for (const r of rows ?? []) counts.set(r.result, (counts.get(r.result) ?? 0) + 1);
  const kinds = new Set((rows ?? []).filter((r) => r.result !== 'refused').map((r) => r.kind));

  return (
    <Card
      title={
        <Space>
          <ImportOutlined />
          Import from cube-studio
        </Space>
      }
      data-testid="import-card"
    >
      <Typography.Paragraph type="secondary">
        cube-studio export files (JSON: job templates, pipelines, services, inference services, AutoML experiments) are
        imported into <Typography.Text code>{project}</Typography.Text>, one by one in the order listed: put job templates
        before the pipelines that use them. Each object is created, updated, left unchanged, or refused with the reason
        (the same as <Typography.Text code>quader import cube-studio</Typography.Text>; see docs/cube-studio.md).
      </Typography.Paragraph>
      <div data-testid="import-files">
        <Upload.Dragger
          multiple
          accept=".json,application/json"
          fileList={files}
          beforeUpload={() => false}
          onChange={({ fileList }) => setFiles(fileList)}
          disabled={busy}
        >
          <p className="ant-upload-drag-icon">
            <InboxOutlined />
          </p>
          <p className="ant-upload-text">Click or drop cube-studio export files here</p>
          <p className="ant-upload-hint">For example its myapp/init/init-job-template.json and init-pipeline.json</p>
        </Upload.Dragger>
      </div>
      <Button
        type="primary"
        icon={<ImportOutlined />}
        style={{ marginTop: 16 }}
        disabled={files.length === 0}
        loading={busy}
        onClick={() => void submit()}
        data-testid="import-submit"
      >
        {files.length > 1 ? `Import ${files.length} files` : 'Import'}
      </Button>
      {error && <Alert type="error" showIcon role="alert" message={error} style={{ marginTop: 16 }} data-testid="import-error" />}
      {rows && (
        <Space direction="vertical" style={{ width: '100%', marginTop: 16 }}>
          <Space wrap data-testid="import-counts">
            {OUTCOMES.filter((o) => counts.get(o)).map((o) => (
              <Tag key={o} color={OUTCOME_COLORS[o]} data-testid={`import-count-${o}`}>
                {counts.get(o)} {o}
              </Tag>
            ))}
            {KIND_PAGES.filter(([k]) => kinds.has(k)).map(([k, label, path]) => (
              <Link key={k} to={`${path}?project=${encodeURIComponent(project)}`} data-testid={`import-see-${k}`}>
                See the project&apos;s {label}
              </Link>
            ))}
          </Space>
          <Table<Row>
            data-testid="import-results"
            rowKey="key"
            size="small"
            dataSource={rows}
            pagination={false}
            onRow={(r) => ({ 'data-testid': `import-row-${r.kind}/${r.name}`, 'data-result': r.result }) as HTMLAttributes<HTMLElement>}
            columns={[
              { title: 'File', dataIndex: 'file' },
              { title: 'Kind', dataIndex: 'kind', render: (k: string) => k || <Typography.Text type="secondary">unknown</Typography.Text> },
              {
                title: 'Name',
                dataIndex: 'name',
                render: (n: string, r) =>
                  r.quader_name && r.quader_name !== n ? (
                    <span>
                      {n} <Typography.Text type="secondary">(as {r.quader_name})</Typography.Text>
                    </span>
                  ) : (
                    n
                  ),
              },
              {
                title: 'Outcome',
                dataIndex: 'result',
                filters: OUTCOMES.filter((o) => counts.get(o)).map((o) => ({ text: o, value: o })),
                onFilter: (value, r) => r.result === value,
                render: (o: string) => <Tag color={OUTCOME_COLORS[o] ?? 'default'}>{o}</Tag>,
              },
              { title: 'Reason', dataIndex: 'reason', render: (t?: string) => t || '' },
            ]}
          />
        </Space>
      )}
    </Card>
  );
}

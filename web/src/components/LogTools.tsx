import { DownloadOutlined, SearchOutlined } from '@ant-design/icons';
import { Button, Input, Space, Switch, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { saveBlob } from './download';

/** Each log line's capture time, as the server keeps it ("2026-12-07T17:01:13.214Z "). */
const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /gm;

/** A log fetched with ?timestamps=1, as the workload wrote it: each line's stamp dropped. */
export function withoutTimestamps(log: string): string {
  return log.replace(STAMP, '');
}

/**
 * Search, timestamps and download for a log view of a log fetched with ?timestamps=1:
 * `shown` is the log with only the lines that hold the search text (case-insensitive;
 * all of it when the search is empty), each line's capture time kept only with the
 * Timestamps switch on; `tools` the search box, the count of matching lines, the switch
 * and the Download button (the whole log as the page has it, timestamps as shown).
 */
export function useLogTools(log: string, fileName: string, testId: string) {
  const [query, setQuery] = useState('');
  const [timestamps, setTimestamps] = useState(false);
  const needle = query.trim().toLowerCase();
  const text = useMemo(() => (timestamps ? log : withoutTimestamps(log)), [log, timestamps]);
  const { shown, matches } = useMemo(() => {
    if (!needle) return { shown: text, matches: -1 };
    const lines = text.split('\n').filter((l) => l.toLowerCase().includes(needle));
    return { shown: lines.join('\n'), matches: lines.length };
  }, [text, needle]);
  const tools = (
    <Space size="small" wrap>
      <Input
        size="small"
        allowClear
        prefix={<SearchOutlined />}
        placeholder="Search the log"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        style={{ width: 200 }}
        data-testid={`${testId}-search`}
      />
      {matches >= 0 && (
        <Typography.Text type="secondary" data-testid={`${testId}-matches`}>
          {matches} {matches === 1 ? 'line' : 'lines'}
        </Typography.Text>
      )}
      <Switch size="small" checked={timestamps} onChange={setTimestamps} data-testid={`${testId}-timestamps`} />
      <Typography.Text type="secondary">timestamps</Typography.Text>
      <Button size="small" icon={<DownloadOutlined />} disabled={!log} onClick={() => saveBlob(new Blob([text], { type: 'text/plain;charset=utf-8' }), fileName)} data-testid={`${testId}-download`}>
        Download
      </Button>
    </Space>
  );
  return { shown, tools };
}

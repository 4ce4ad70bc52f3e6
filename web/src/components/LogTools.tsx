import { DownloadOutlined, SearchOutlined } from '@ant-design/icons';
import { Button, Input, Space, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { saveBlob } from './download';

/**
 * Search and download for a log view: `shown` is the log with only the lines that hold
 * the search text (case-insensitive; all of it when the search is empty), `tools` the
 * search box, the count of matching lines and the Download button (the whole log as
 * the page has it).
 */
export function useLogTools(log: string, fileName: string, testId: string) {
  const [query, setQuery] = useState('');
  const needle = query.trim().toLowerCase();
  const { shown, matches } = useMemo(() => {
    if (!needle) return { shown: log, matches: -1 };
    const lines = log.split('\n').filter((l) => l.toLowerCase().includes(needle));
    return { shown: lines.join('\n'), matches: lines.length };
  }, [log, needle]);
  const tools = (
    <Space size="small">
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
      <Button size="small" icon={<DownloadOutlined />} disabled={!log} onClick={() => saveBlob(new Blob([log], { type: 'text/plain;charset=utf-8' }), fileName)} data-testid={`${testId}-download`}>
        Download
      </Button>
    </Space>
  );
  return { shown, tools };
}

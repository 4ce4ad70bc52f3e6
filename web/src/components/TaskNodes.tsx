import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { Tag, Tooltip, Typography } from 'antd';
import { LoadingOutlined, WarningOutlined } from '@ant-design/icons';
import type { TaskDraft } from './pipelineDraft';
import { NODE_WIDTH } from './dag';

// The canvas nodes: a task of the pipeline editor (with handles to connect), and a task
// of a run (read-only, coloured by state).

export type EditorNodeData = { task: TaskDraft; placed: boolean; templateFound: boolean };
export type EditorNode = Node<EditorNodeData, 'task'>;

const handleStyle = { width: 12, height: 12, background: '#1677ff', border: '2px solid #fff' };

export function EditorTaskNode({ data, selected }: NodeProps<EditorNode>) {
  const t = data.task;
  return (
    <div
      data-testid={`task-node-${t.name}`}
      title={`${t.name} (template ${t.template})`}
      style={{
        width: NODE_WIDTH,
        padding: '8px 12px',
        borderRadius: 8,
        background: t.skip ? '#fafafa' : '#fff',
        border: selected ? '2px solid #1677ff' : '1px solid #d9d9d9',
        boxShadow: selected ? '0 0 0 3px rgba(22,119,255,0.15)' : '0 1px 2px rgba(0,0,0,0.06)',
        opacity: t.skip ? 0.7 : 1,
      }}
    >
      <Handle type="target" position={Position.Top} style={handleStyle} data-testid={`task-in-${t.name}`} />
      <div style={{ fontWeight: 600, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
        {t.label || t.name}
      </div>
      <div style={{ fontSize: 12, color: 'rgba(0,0,0,0.45)', overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
        {t.label ? `${t.name} · ` : ''}
        {t.template}
        {!data.templateFound && (
          <Tooltip title="No such job template">
            <WarningOutlined style={{ color: '#fa8c16', marginLeft: 4 }} />
          </Tooltip>
        )}
        {t.skip && (
          <Tag style={{ marginLeft: 6 }} bordered={false}>
            skip
          </Tag>
        )}
      </div>
      <Handle type="source" position={Position.Bottom} style={handleStyle} data-testid={`task-out-${t.name}`} />
    </div>
  );
}

export type RunNodeData = { name: string; label: string; template: string; state: string; attempt: number; maxAttempts: number };
export type RunNode = Node<RunNodeData, 'run-task'>;

/** Colours of a task's state on the run's DAG. */
export const RUN_STATE_STYLE: Record<string, { background: string; border: string; color?: string; dashed?: boolean }> = {
  pending: { background: '#f5f5f5', border: '#bfbfbf' },
  running: { background: '#e6f4ff', border: '#1677ff' },
  succeeded: { background: '#f6ffed', border: '#52c41a' },
  failed: { background: '#fff1f0', border: '#ff4d4f' },
  upstream_failed: { background: '#fff1f0', border: '#ff7875', dashed: true },
  stopped: { background: '#fff7e6', border: '#fa8c16' },
  skipped: { background: '#fcfcfc', border: '#e8e8e8', color: 'rgba(0,0,0,0.35)', dashed: true },
};

export function RunTaskNode({ data, selected }: NodeProps<RunNode>) {
  const st = RUN_STATE_STYLE[data.state] ?? RUN_STATE_STYLE.pending;
  return (
    <div
      data-testid={`run-task-${data.name}`}
      data-state={data.state}
      title={`${data.name}: ${data.state}`}
      style={{
        width: NODE_WIDTH,
        padding: '8px 12px',
        borderRadius: 8,
        background: st.background,
        color: st.color,
        border: `${selected ? 3 : 2}px ${st.dashed ? 'dashed' : 'solid'} ${st.border}`,
        cursor: 'pointer',
      }}
    >
      <Handle type="target" position={Position.Top} isConnectable={false} style={{ opacity: 0 }} />
      <div style={{ fontWeight: 600, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
        {data.state === 'running' && <LoadingOutlined style={{ marginRight: 6, color: '#1677ff' }} />}
        {data.label || data.name}
      </div>
      <Typography.Text style={{ fontSize: 12, color: st.color ?? 'rgba(0,0,0,0.55)' }}>
        {data.state.replace('_', ' ')}
        {data.maxAttempts > 1 && data.attempt > 0 ? ` · attempt ${data.attempt} of ${data.maxAttempts}` : ''}
      </Typography.Text>
      <Handle type="source" position={Position.Bottom} isConnectable={false} style={{ opacity: 0 }} />
    </div>
  );
}

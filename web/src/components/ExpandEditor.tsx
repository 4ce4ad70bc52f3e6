import { Alert, App, Button, Input, Space, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { errorText } from '../api';
import { EXPAND_HELP, EXPAND_PLACEHOLDER, expandText, parseExpand } from './expand';

interface Props {
  /** The saved expand object. */
  value: unknown;
  /** Saves a new expand; throws the API error on failure. */
  onSave: (expand: unknown) => Promise<void>;
  readOnly?: boolean;
  readOnlyReason?: string;
}

/**
 * JSON editor for a project's `expand`. The server validates it; its error message
 * (which names the faulty entry, e.g. `expand.volume_mount[1]: unknown mount kind "nfs"`)
 * is shown verbatim under the editor.
 */
export default function ExpandEditor({ value, onSave, readOnly, readOnlyReason }: Props) {
  const { message } = App.useApp();
  const saved = expandText(value);
  const [text, setText] = useState(saved);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => setText(saved), [saved]);

  const dirty = text !== saved;

  const save = async () => {
    const parsed = parseExpand(text);
    if ('error' in parsed) {
      setError(parsed.error);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSave(parsed.value);
      message.success('Expand saved');
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Typography.Text type="secondary">{EXPAND_HELP}</Typography.Text>
      <Input.TextArea
        aria-label="expand"
        data-testid="expand-editor"
        value={text}
        onChange={(e) => setText(e.target.value)}
        autoSize={{ minRows: 5, maxRows: 20 }}
        placeholder={EXPAND_PLACEHOLDER}
        spellCheck={false}
        readOnly={readOnly}
        style={{ fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace' }}
      />
      {error && (
        <Alert
          type="error"
          showIcon
          role="alert"
          data-testid="expand-error"
          message={<span style={{ whiteSpace: 'pre-wrap', fontFamily: 'ui-monospace, monospace' }}>{error}</span>}
        />
      )}
      {readOnly ? (
        readOnlyReason && <Typography.Text type="secondary">{readOnlyReason}</Typography.Text>
      ) : (
        <Space>
          <Button type="primary" onClick={() => void save()} loading={busy} data-testid="expand-save">
            Save expand
          </Button>
          <Button
            disabled={!dirty && !error}
            onClick={() => {
              setText(saved);
              setError(null);
            }}
            data-testid="expand-reset"
          >
            Reset
          </Button>
        </Space>
      )}
    </Space>
  );
}

import { Alert, Modal } from 'antd';
import { useState, type ReactNode } from 'react';
import { errorText } from '../api';

/**
 * The state every create-something dialog needs: whether a request is in flight,
 * and the server's error message to show. `run` clears the error, marks busy,
 * awaits `fn`, and shows `error.message` verbatim when it throws.
 */
export function useSubmit() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return { error, setError, busy, run };
}

/**
 * A dialog around a form: OK submits, Cancel closes and forgets the error, and the
 * error (if any) is shown under the form. Test ids: `${testId}-submit`, `${testId}-error`.
 */
export default function FormModal(props: {
  title: string;
  open: boolean;
  okText: string;
  busy: boolean;
  error: string | null;
  testId: string;
  width?: number;
  onOk: () => void;
  onClose: () => void;
  clearError: () => void;
  children: ReactNode;
}) {
  return (
    <Modal
      title={props.title}
      open={props.open}
      onCancel={() => {
        props.clearError();
        props.onClose();
      }}
      onOk={props.onOk}
      okText={props.okText}
      okButtonProps={{ loading: props.busy, 'data-testid': `${props.testId}-submit` }}
      destroyOnHidden
      width={props.width}
    >
      {props.children}
      {props.error && (
        <Alert
          type="error"
          showIcon
          role="alert"
          data-testid={`${props.testId}-error`}
          message={<span style={{ whiteSpace: 'pre-wrap' }}>{props.error}</span>}
        />
      )}
    </Modal>
  );
}

import { Alert, App, Button, Checkbox, Input, Space, Typography } from 'antd';
import { CopyOutlined, LoadingOutlined } from '@ant-design/icons';
import { useEffect, useRef, useState } from 'react';
import { api, errorText, type ManifestCollection } from '../api';
import { MONO } from './images';
import SideDrawer, { CODE_BLOCK_STYLE } from './SideDrawer';

/** The object whose manifests the drawer shows. */
export interface ManifestsTarget {
  coll: ManifestCollection;
  id: number;
  name: string;
  project: string;
}

/** `quader render`'s name for each collection. */
const RENDER_KIND: Record<ManifestCollection, string> = {
  services: 'service',
  'inference-services': 'inference-service',
  notebooks: 'notebook',
};

/** How long the namespace box waits after a key press before asking the server. */
const TYPING_DELAY_MS = 300;

/**
 * "Kubernetes manifests — NAME": the objects the kubernetes runtime applies for a service,
 * inference service or notebook (GET /{coll}/{id}/manifests, what `quader render` prints),
 * as YAML, with a namespace box (empty: the server's), an "Istio VirtualService" switch
 * (services only) and Copy. The server's error (e.g. a bad namespace) is shown as it is.
 * Test ids: `manifests-drawer`, `manifests-namespace`, `manifests-istio`, `manifests-copy`,
 * `manifests-note`, `manifests-error`, `manifests-yaml` (with `data-loading`).
 */
export default function ManifestsDrawer({ target, onClose }: { target: ManifestsTarget | null; onClose: () => void }) {
  return (
    <SideDrawer
      title={target ? `Kubernetes manifests — ${target.name}` : 'Kubernetes manifests'}
      open={target !== null}
      onClose={onClose}
      testId="manifests-drawer"
    >
      {target && <ManifestsView key={`${target.coll}/${target.id}`} target={target} />}
    </SideDrawer>
  );
}

function ManifestsView({ target }: { target: ManifestsTarget }) {
  const { message } = App.useApp();
  const [namespace, setNamespace] = useState('');
  const [asked, setAsked] = useState(''); // the namespace once typing pauses
  const [istio, setIstio] = useState(false);
  const [yaml, setYaml] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const withIstio = target.coll !== 'notebooks';

  useEffect(() => {
    const t = setTimeout(() => setAsked(namespace.trim()), TYPING_DELAY_MS);
    return () => clearTimeout(t);
  }, [namespace]);

  useEffect(() => {
    // Only the newest request's answer is shown.
    const mine = ++seq.current;
    setLoading(true);
    api
      .getManifests(target.coll, target.id, { namespace: asked, istio: withIstio && istio })
      .then((m) => {
        if (mine !== seq.current) return;
        setYaml(m.yaml);
        setError(null);
      })
      .catch((e: unknown) => {
        if (mine !== seq.current) return;
        setYaml(null);
        setError(errorText(e));
      })
      .finally(() => {
        if (mine === seq.current) setLoading(false);
      });
  }, [target.coll, target.id, asked, istio, withIstio]);

  const copy = async () => {
    if (yaml === null) return;
    try {
      await copyText(yaml);
      message.success('Manifests copied');
    } catch (e) {
      message.error(`Cannot copy: ${errorText(e)}`);
    }
  };

  let command = `quader render ${RENDER_KIND[target.coll]} ${target.name} --project ${target.project}`;
  if (asked) command += ` -n ${asked}`;
  if (withIstio && istio) command += ' --istio';

  return (
    <div>
      <Space wrap style={{ width: '100%', justifyContent: 'space-between', marginBottom: 8 }}>
        <Space wrap>
          <Typography.Text type="secondary">Namespace</Typography.Text>
          <Input
            value={namespace}
            onChange={(e) => setNamespace(e.target.value)}
            placeholder="the server's"
            allowClear
            spellCheck={false}
            style={{ width: 220, fontFamily: MONO }}
            aria-label="Namespace"
            data-testid="manifests-namespace"
          />
          {withIstio && (
            <Checkbox checked={istio} onChange={(e) => setIstio(e.target.checked)} data-testid="manifests-istio">
              Istio VirtualService
            </Checkbox>
          )}
        </Space>
        <Space>
          {loading && (
            <Typography.Text type="secondary">
              <LoadingOutlined />
            </Typography.Text>
          )}
          <Button size="small" icon={<CopyOutlined />} disabled={yaml === null} onClick={() => void copy()} data-testid="manifests-copy">
            Copy
          </Button>
        </Space>
      </Space>
      <Typography.Paragraph type="secondary" style={{ marginBottom: 12 }} data-testid="manifests-note">
        What the kubernetes runtime applies for it; <Typography.Text code>{command}</Typography.Text> prints the same.
      </Typography.Paragraph>
      {error && <Alert type="error" showIcon role="alert" style={{ marginBottom: 12 }} message={error} data-testid="manifests-error" />}
      {yaml !== null && (
        <pre
          data-testid="manifests-yaml"
          data-loading={loading ? 'true' : 'false'}
          aria-label={`Kubernetes manifests of ${target.name}`}
          style={{ ...CODE_BLOCK_STYLE, minHeight: 120, maxHeight: 'calc(100vh - 260px)' }}
        >
          {yaml}
        </pre>
      )}
    </div>
  );
}

/**
 * Puts `text` on the clipboard: the Clipboard API where the page may use it (HTTPS,
 * localhost), otherwise a selected hidden text area and the copy command (plain HTTP).
 */
async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  try {
    area.select();
    if (!document.execCommand('copy')) throw new Error('the browser refused');
  } finally {
    document.body.removeChild(area);
  }
}

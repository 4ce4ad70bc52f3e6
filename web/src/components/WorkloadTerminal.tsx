import '@xterm/xterm/css/xterm.css';
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { Alert, Space, Tag, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { API_BASE } from '../api';
import SideDrawer from './SideDrawer';

/**
 * A terminal in a running workload (docs/api.md "Terminals"): xterm.js on a WebSocket to
 * `GET {API_BASE}{path}`, signed in by the session cookie (the server accepts a cookie
 * only from its own pages' Origin). Binary messages carry the terminal's bytes both ways;
 * a resize is a text message; the server closes with "exit N" when the shell ends.
 */
export function WorkloadTerminal({ path }: { path: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<'connecting' | 'open' | 'closed'>('connecting');
  const [reason, setReason] = useState('');
  useEffect(() => {
    if (!box.current) return;
    const term = new Terminal({ cursorBlink: true, fontSize: 13, convertEol: false, scrollback: 5000 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(box.current);
    fit.fit();
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const sep = path.includes('?') ? '&' : '?';
    const ws = new WebSocket(`${scheme}://${window.location.host}${API_BASE}${path}${sep}rows=${term.rows}&cols=${term.cols}`);
    ws.binaryType = 'arraybuffer';
    const encoder = new TextEncoder();
    ws.onopen = () => {
      setState('open');
      term.focus();
    };
    ws.onmessage = (e) => {
      if (e.data instanceof ArrayBuffer) term.write(new Uint8Array(e.data));
    };
    ws.onclose = (e) => {
      setState('closed');
      // Refused before the upgrade (not running, no access): the browser gives no body, only 1006.
      const why = e.reason || (e.code === 1006 ? 'the terminal could not be opened (is it still running, and yours?)' : 'closed');
      setReason(why);
      term.write(`\r\n\x1b[2m[${why}]\x1b[0m\r\n`);
    };
    const keys = term.onData((d) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(encoder.encode(d));
    });
    const sized = term.onResize(({ rows, cols }) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ resize: { rows, cols } }));
    });
    const refit = () => fit.fit();
    window.addEventListener('resize', refit);
    return () => {
      window.removeEventListener('resize', refit);
      keys.dispose();
      sized.dispose();
      ws.close();
      term.dispose();
    };
  }, [path]);
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Space>
        <Tag color={state === 'open' ? 'green' : state === 'closed' ? 'default' : 'blue'} data-testid="terminal-state" data-state={state}>
          {state}
        </Tag>
        {state === 'closed' && (
          <Typography.Text type="secondary" data-testid="terminal-reason">
            {reason}
          </Typography.Text>
        )}
      </Space>
      <div ref={box} data-testid="terminal" style={{ height: 480, background: '#000', padding: 4, borderRadius: 6 }} />
      <Alert
        type="info"
        showIcon
        message="The shell runs inside the workload, as the user it runs as; closing this panel ends it. From a terminal: quader exec."
      />
    </Space>
  );
}

/** A drawer holding a terminal; `path` (below /api/v1) is null while closed. */
export function TerminalDrawer({ title, path, onClose }: { title: string; path: string | null; onClose: () => void }) {
  return (
    <SideDrawer title={title} open={path !== null} onClose={onClose} testId="terminal-drawer">
      {path && <WorkloadTerminal path={path} />}
    </SideDrawer>
  );
}

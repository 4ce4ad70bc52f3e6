// The live build log: the build page reads GET /image-builds/{id}/logs?follow=1 as a
// stream and shows each piece as it arrives. A server without a container engine ends
// its builds at once, so to see a log *grow* this test puts a small proxy in front of
// the real server: every request goes through to it, except the reads of one build and
// its log, which the proxy answers with a scripted build (pending → running →
// succeeded) whose log it writes in pieces, when the test says so.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { apiCall, apiLogin, launchBrowser, newPage, startServer, uiLogin } from './helpers.mjs';

const ID = 424242;

describe('build log stream', () => {
  let server;
  let proxy;
  let base;
  let browser;
  let adminToken;

  // The scripted build and its log, driven by the test.
  const build = {
    id: ID,
    project: 'public',
    name: 'streamed',
    image: 'team/streamed:1',
    from: 'quader/python:3.11',
    dockerfile: 'RUN echo hi',
    commit: null,
    config: {},
    description: '',
    state: 'pending',
    reason: '',
    created_by: 'admin',
    created_at: '2026-11-29T10:00:00Z',
    started_at: null,
    finished_at: null,
  };
  let logRes = null; // the open ?follow=1 response
  let logRequests = [];
  let waitLog = null;
  const logOpened = () =>
    logRes ? Promise.resolve() : new Promise((resolve) => (waitLog = resolve));

  // Is this Authorization header a live token of the real server?
  const authorized = async (header) => {
    if (!header) return false;
    const r = await fetch(`${server.base}/api/v1/me`, { headers: { Authorization: header } });
    return r.status === 200;
  };

  before(async () => {
    server = await startServer();
    adminToken = await apiLogin(server.base, 'admin', server.password);
    const target = new URL(server.base);
    proxy = http.createServer(async (req, res) => {
      const url = new URL(req.url, 'http://x');
      if (url.pathname === `/api/v1/image-builds/${ID}` || url.pathname === `/api/v1/image-builds/${ID}/logs`) {
        if (!(await authorized(req.headers.authorization))) {
          res.writeHead(401, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'unauthenticated', message: 'stand-in: no valid bearer token' } }));
          return;
        }
        if (url.pathname.endsWith('/logs')) {
          logRequests.push({ follow: url.searchParams.get('follow'), auth: req.headers.authorization });
          res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' });
          res.flushHeaders();
          logRes = res;
          waitLog?.();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(build));
        return;
      }
      const up = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          res.writeHead(upRes.statusCode, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${proxy.address().port}`;
    browser = await launchBrowser();
  });

  after(async () => {
    logRes?.destroy();
    await browser?.close().catch(() => undefined);
    proxy?.closeAllConnections?.();
    await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve()));
    await server?.stop();
  });

  test('the log grows as the server writes it; the page ends on the final state', async () => {
    assert.equal((await apiCall(server.base, adminToken, 'GET', '/me')).status, 200);
    const { context, page, errors } = await newPage(browser);
    try {
      await uiLogin(page, base, 'admin', server.password);
      await page.goto(`${base}/images/builds/${ID}`);
      await page.getByTestId('build-name').filter({ hasText: 'streamed' }).waitFor();
      const state = page.getByTestId('build-state');
      const log = page.getByTestId('build-log');
      const logText = () => log.evaluate((el) => el.textContent);

      // Pending, nothing written yet.
      await logOpened();
      assert.equal((await state.textContent()).trim(), 'pending');
      await page.getByTestId('build-log-waiting').waitFor();
      assert.equal(logRequests.length, 1);
      assert.equal(logRequests[0].follow, '1', 'the log is followed');
      assert.match(logRequests[0].auth, /^Bearer qdr_/, 'the token is sent as a bearer header');

      // Running: the first piece shows while the response is still open.
      build.state = 'running';
      build.started_at = '2026-11-29T10:00:01Z';
      logRes.write('== building team/streamed:1\n');
      await page.waitForFunction(
        () => document.querySelector('[data-testid="build-log"]')?.textContent === '== building team/streamed:1\n',
      );
      await page.locator('[data-testid="build-state"][data-state="running"]').waitFor({ timeout: 10_000 });
      await page.getByTestId('build-log-live').waitFor();

      // A character split across two pieces is decoded whole.
      const e = Buffer.from('é', 'utf8');
      logRes.write(Buffer.concat([Buffer.from('caf'), e.subarray(0, 1)]));
      await new Promise((r) => setTimeout(r, 200));
      logRes.write(Buffer.concat([e.subarray(1), Buffer.from('\n')]));
      await page.waitForFunction(() => document.querySelector('[data-testid="build-log"]')?.textContent.endsWith('café\n'));
      assert.doesNotMatch(await logText(), /\uFFFD/);

      // Much more output: the panel follows the end.
      let more = '';
      for (let i = 1; i <= 300; i++) more += `step ${i}: doing things\n`;
      logRes.write(more);
      await page.waitForFunction(() => document.querySelector('[data-testid="build-log"]')?.textContent.endsWith('step 300: doing things\n'));
      await page.waitForFunction(() => {
        const el = document.querySelector('[data-testid="build-log"]');
        return el.scrollHeight > el.clientHeight && el.scrollHeight - el.scrollTop - el.clientHeight < 4;
      });

      // The build ends and the server closes the stream: the page reads the build again.
      build.state = 'succeeded';
      build.finished_at = '2026-11-29T10:00:09Z';
      logRes.end('== succeeded\n');
      await page.locator('[data-testid="build-state"][data-state="succeeded"]').waitFor();
      await page.getByTestId('build-log-ended').waitFor();
      const full = await logText();
      assert.ok(full.startsWith('== building team/streamed:1\ncafé\nstep 1: doing things\n'), full.slice(0, 80));
      assert.ok(full.endsWith('step 300: doing things\n== succeeded\n'));
      assert.equal(logRequests.length, 1, 'a finished build is not followed again');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});

// Services in the web UI against the real server, on the process runtime: a Service
// whose two replicas are local Python HTTP servers reaches `running` on its page, with
// both replicas ready in the table, replica-ready events and a URL the gateway answers;
// Edit PUTs the document and the replicas roll to the new generation; the New service
// form shows the server's error for a host outside the service domain and creates
// nothing; the New inference service form sends the model and traffic fields and its
// page shows them; a user who is not a member of the service's project gets no access to it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { apiCall, apiLogin, launchBrowser, newPage, pickSelect, startServer, uiLogin, waitFor } from './helpers.mjs';

const READY_TIMEOUT = 30_000;
const REPLY = 'hello from quader service';

// A replica: answers every GET with REPLY (and $GREETING, when set) on $PORT.
const CODE = `import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ('${REPLY}' + os.environ.get('GREETING', '')).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()
`;

const serviceDoc = (name, project = 'public', extra = {}) => ({
  kind: 'Service',
  name,
  project,
  image: 'quader/python:3.11',
  command: ['/usr/bin/python3', '-c', CODE],
  ports: [8080],
  health: '8080:/',
  replicas: 2,
  ...extra,
});

/** GET / through the gateway with the given Host header; resolves to {status, body}. */
function gatewayGet(gateway, host) {
  const u = new URL(gateway);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: u.hostname, port: u.port, path: '/', headers: { Host: host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('gateway request timed out')));
  });
}

describe('services', () => {
  let server;
  let browser;
  let adminToken;
  let gateway;
  let context;
  let page;
  let errors;

  before(async () => {
    server = await startServer();
    gateway = JSON.parse(await readFile(path.join(server.dataDir, 'server.json'), 'utf8')).gateway;
    browser = await launchBrowser();
    adminToken = await apiLogin(server.base, 'admin', server.password);
    ({ context, page, errors } = await newPage(browser));
    await page.setViewportSize({ width: 1600, height: 1000 });
    await uiLogin(page, server.base, 'admin', server.password);
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  const call = async (method, p, body, status = 200, token = adminToken) => {
    const r = await apiCall(server.base, token, method, p, body);
    assert.equal(r.status, status, `${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  /** Waits for a locator; on time-out, fails with the service as the API has it and the server log. */
  const waitOrExplain = async (locator, id, timeout = READY_TIMEOUT) => {
    try {
      await locator.waitFor({ timeout });
    } catch (e) {
      const now = await apiCall(server.base, adminToken, 'GET', `/services/${id}`);
      throw new Error(`${e.message}\nservice: ${JSON.stringify(now.body)}\n--- server ---\n${server.logTail()}`);
    }
  };

  test('a service of two local Python servers runs; its page shows both replicas ready and the events; Edit rolls it', async () => {
    const created = await call('POST', '/services', serviceDoc('echo'), 201);
    assert.equal(created.name, 'echo');
    assert.equal(typeof created.url, 'string');

    await page.goto(`${server.base}/services/${created.id}`);
    assert.equal((await page.getByTestId('service-title').textContent()).trim(), 'echo');
    await waitOrExplain(page.locator('[data-testid="service-state"][data-state="running"]'), created.id);

    // Both replicas ready in the table (refreshed without reloading the page).
    const ready = page.locator('[data-testid="replicas-table"] tr[data-testid^="replica-row-"][data-state="ready"]');
    await waitFor(async () => (await ready.count()) === 2, READY_TIMEOUT, 'two ready replicas in the table');
    const svc = await call('GET', `/services/${created.id}`);
    assert.equal(svc.state, 'running');
    assert.equal(svc.replica_states.filter((r) => r.state === 'ready').length, 2, JSON.stringify(svc.replica_states));
    for (const r of svc.replica_states) {
      const row = page.locator(`[data-testid="replica-row-${r.index}"][data-generation="${r.generation}"]`);
      const cells = (await row.locator('td').allTextContents()).map((c) => c.trim());
      assert.deepEqual(cells, [String(r.index), String(r.generation), 'ready', r.workload, String(r.port)]);
    }
    await page.locator('[data-testid="service-ready"]', { hasText: '2 ready of 2' }).waitFor();

    // Events, newest first, with replica-ready among them.
    await page.locator('[data-testid="service-event"][data-kind="replica-ready"]').first().waitFor();
    const kinds = await page.locator('[data-testid="events-table"] tr[data-testid="service-event"]').evaluateAll((rows) =>
      rows.map((r) => r.getAttribute('data-kind')),
    );
    assert.ok(kinds.includes('replica-started'), JSON.stringify(kinds));
    assert.ok(kinds.indexOf('replica-ready') < kinds.lastIndexOf('replica-started'), `newest first: ${JSON.stringify(kinds)}`);

    // The production URL as the API gives it; the gateway answers on its host.
    assert.equal((await page.getByTestId('service-url').textContent()).trim(), svc.url);
    const host = new URL(svc.url).host;
    const res = await gatewayGet(gateway, host);
    assert.equal(res.status, 200, JSON.stringify(res));
    assert.equal(res.body, REPLY);

    // The list: state, ready/desired, URL, generation.
    await page.getByRole('menuitem', { name: /Services/ }).click();
    await page.waitForURL(`${server.base}/services`);
    const row = page.locator('[data-testid="service-row-public/echo"][data-state="running"]');
    await row.waitFor();
    assert.equal((await page.getByTestId(`service-ready-${created.id}`).textContent()).trim(), '2/2');
    assert.equal((await page.getByTestId(`service-url-${created.id}`).textContent()).trim(), svc.url);
    assert.match(await row.textContent(), /public/);
    await page.getByTestId('service-link-public/echo').click();
    await page.waitForURL(`${server.base}/services/${created.id}`);

    // Edit: prefilled; a new env PUTs the whole document and the replicas roll to generation 2.
    await page.getByTestId('edit-service').click();
    assert.equal(await page.getByTestId('service-form-name').inputValue(), 'echo');
    assert.ok(await page.getByTestId('service-form-name').isDisabled(), 'the name is fixed');
    assert.deepEqual(JSON.parse(await page.getByTestId('service-form-command').inputValue()), svc.command);
    assert.equal(await page.getByTestId('service-form-ports').inputValue(), '8080');
    await page.getByTestId('service-form-env').fill('GREETING= again');
    const [req] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'PUT' && new URL(r.url()).pathname === `/api/v1/services/${created.id}`),
      page.getByTestId('edit-service-submit').click(),
    ]);
    const sent = req.postDataJSON();
    assert.equal(sent.name, 'echo');
    assert.equal(sent.replicas, 2);
    assert.deepEqual(sent.command, svc.command);
    assert.deepEqual(sent.ports, [8080]);
    assert.equal(sent.health, '8080:/');
    assert.deepEqual(sent.env, { GREETING: ' again' });
    await page.locator('[data-testid="service-generation"]', { hasText: /^2$/ }).waitFor();
    const rolled = page.locator('[data-testid="replicas-table"] tr[data-generation="2"][data-state="ready"]');
    await waitFor(
      async () => (await rolled.count()) === 2 && (await page.locator('[data-testid="replicas-table"] tr[data-generation="1"]').count()) === 0,
      READY_TIMEOUT,
      'two ready replicas of generation 2 and none of generation 1',
    );
    assert.equal((await gatewayGet(gateway, host)).body, `${REPLY} again`);

    // Delete from the page.
    await page.getByTestId('delete-service').click();
    await page.locator('.ant-popover:not(.ant-popover-hidden)').getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(`${server.base}/services?project=public`);
    await page.getByTestId('services-table').waitFor();
    await waitFor(async () => (await page.getByTestId('service-row-public/echo').count()) === 0, 10_000, 'the row to go');
    await call('GET', `/services/${created.id}`, undefined, 404);
    assert.deepEqual(errors, []);
  });

  test('New service shows the server error for a host outside the service domain and creates nothing', async () => {
    const before = (await call('GET', '/services')).items.map((x) => x.id);

    await page.goto(`${server.base}/services`);
    await page.getByTestId('services-table').waitFor();
    await page.getByTestId('new-service').click();
    await page.getByTestId('service-form-name').fill('bad-host');
    await page.getByTestId('service-form-command').fill(JSON.stringify(['/usr/bin/python3', '-c', CODE]));
    await page.getByTestId('service-form-ports').fill('8080, 9090');
    await page.getByTestId('service-form-env').fill('A=1\nB=two words');
    await page.getByTestId('service-form-health').fill('8080:/');
    await page.getByTestId('service-form-host').fill('evil.example.com');
    const [req] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/services'),
      page.getByTestId('new-service-submit').click(),
    ]);
    const alert = page.getByTestId('new-service-error');
    await alert.waitFor();
    const sent = req.postDataJSON();
    assert.equal(sent.name, 'bad-host');
    assert.equal(sent.project, 'public');
    assert.equal(sent.host, 'evil.example.com');
    assert.deepEqual(sent.command, ['/usr/bin/python3', '-c', CODE]);
    assert.deepEqual(sent.ports, [8080, 9090]);
    assert.deepEqual(sent.env, { A: '1', B: 'two words' });
    assert.equal(sent.replicas, 1);
    const expected = await apiCall(server.base, adminToken, 'POST', '/services', sent);
    assert.equal(expected.status, 400, JSON.stringify(expected.body));
    assert.match(expected.body?.error?.message ?? '', /host/, JSON.stringify(expected.body));
    assert.equal((await alert.textContent()).trim(), expected.body.error.message);
    assert.ok(await page.getByTestId('new-service-submit').isVisible(), 'the form stays open');

    const after = (await call('GET', '/services')).items;
    assert.deepEqual(after.map((x) => x.id), before, 'nothing was created');
    await page.keyboard.press('Escape');
    assert.deepEqual(errors, []);
  });

  test('New inference service sends the model and traffic fields; its page shows them', async () => {
    // The split and mirror targets must exist (other inference services of the project).
    const targets = [];
    for (const version of ['v2024.01.2', 'v2024.01.3']) {
      targets.push(
        await call('POST', '/inference-services', {
          kind: 'InferenceService', service_type: 'serving', model_name: 'iris', model_version: version,
          image: 'quader/python:3.11', command: 'sleep 300', ports: [8080],
        }, 201),
      );
    }
    await page.goto(`${server.base}/inference-services`);
    await page.getByTestId('services-table').waitFor();
    await page.getByTestId('new-service').click();
    assert.equal(await page.getByTestId('service-form-name').count(), 0, 'the name comes from the model fields');
    await pickSelect(page, 'service-form-service-type', 'serving');
    await page.getByTestId('service-form-model-name').fill('iris');
    await page.getByTestId('service-form-model-version').fill('v2024.01.1');
    await page.getByTestId('service-form-command').fill('sleep 300');
    await page.getByTestId('service-form-ports').fill('8080');
    await page.getByTestId('service-form-canary').fill('serving-iris-2024012:20%');
    await page.getByTestId('service-form-shadow').fill('serving-iris-2024013:100%');
    const [req] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/inference-services'),
      page.getByTestId('new-service-submit').click(),
    ]);
    const sent = req.postDataJSON();
    assert.equal(sent.name, undefined);
    assert.equal(sent.service_type, 'serving');
    assert.equal(sent.model_name, 'iris');
    assert.equal(sent.model_version, 'v2024.01.1');
    assert.equal(sent.command, 'sleep 300', 'a command that is not a JSON list goes as a string');
    assert.equal(sent.min_replicas, 1);
    assert.equal(sent.max_replicas, 1);
    assert.equal(sent.canary, 'serving-iris-2024012:20%');
    const list = (await call('GET', '/inference-services')).items;
    const made = list.find((s) => s.name === 'serving-iris-2024011');
    assert.ok(made, JSON.stringify(list));
    assert.equal(made.name, 'serving-iris-2024011');
    await page.waitForURL(`${server.base}/inference-services/${made.id}`);
    assert.equal((await page.getByTestId('service-title').textContent()).trim(), 'serving-iris-2024011');
    assert.equal((await page.getByTestId('service-canary').textContent()).trim(), made.canary);
    assert.equal((await page.getByTestId('service-shadow').textContent()).trim(), made.shadow);
    assert.equal((await page.getByTestId('service-url').textContent()).trim(), made.url);
    const hosts = (await page.getByTestId('service-hosts').textContent()).trim();
    for (const h of made.hosts) assert.ok(hosts.includes(h), `${h} in ${hosts}`);
    // Not a Service: the services page of the same id is a 404.
    await page.goto(`${server.base}/services/${made.id}`);
    await page.getByTestId('service-error').waitFor();
    await call('DELETE', `/inference-services/${made.id}`, undefined, 204);
    for (const t of targets) await call('DELETE', `/inference-services/${t.id}`, undefined, 204);
    assert.deepEqual(errors, []);
  });

  test("an inference service's deploy buttons move it between stages, and the history shows each", async () => {
    const doc = { ...serviceDoc('unused'), kind: 'InferenceService', service_type: 'serving', model_name: 'iris', model_version: 'v7' };
    delete doc.name;
    delete doc.replicas;
    const made = await call('POST', '/inference-services', doc, 201);
    assert.equal(made.model_status, 'online');
    await page.goto(`${server.base}/inference-services/${made.id}`);
    await waitOrExplain(page.locator('[data-testid="model-status"][data-status="online"]'), made.id);
    assert.ok(await page.getByTestId('deploy-debug').isDisabled(), 'online: debug needs a clear first');
    await page.getByTestId('deploy-clear').click();
    await page.getByRole('button', { name: 'Clear', exact: true }).last().click();
    await waitOrExplain(page.locator('[data-testid="model-status"][data-status="offline"]'), made.id);
    await page.getByTestId('deploy-debug').click();
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await waitOrExplain(page.locator('[data-testid="model-status"][data-status="debug"]'), made.id);
    // The debug host answers once its one replica is ready; production does not.
    await waitFor(async () => (await gatewayGet(gateway, `debug.${made.name}.service.localhost`)).status === 200, READY_TIMEOUT);
    assert.equal((await gatewayGet(gateway, `${made.name}.service.localhost`)).status, 404);
    const history = page.getByTestId('deploy-history');
    await waitFor(async () => (await history.locator('tbody tr').count()) === 3, 10_000);
    const text = await history.textContent();
    for (const m of ['deploy debug: admin', 'clear: admin', 'deploy prod: admin (created)']) assert.ok(text.includes(m), `${m} in ${text}`);
    await call('DELETE', `/inference-services/${made.id}`, undefined, 204);
    assert.deepEqual(errors, []);
  });

  test('Debug with a shell: the replica waits idle, its terminal opens, and a server started there answers on the debug host', async () => {
    const doc = { ...serviceDoc('unused'), kind: 'InferenceService', service_type: 'serving', model_name: 'iris', model_version: 'v8' };
    delete doc.name;
    delete doc.replicas;
    const made = await call('POST', '/inference-services', doc, 201);
    await call('POST', `/inference-services/${made.id}/clear`);
    // The server the user starts by hand, in their own directory (/mnt/admin).
    const work = path.join(server.dataDir, 'users', 'admin', 'work');
    await mkdir(work, { recursive: true });
    await writeFile(path.join(work, 'by-hand.py'), CODE);
    await page.goto(`${server.base}/inference-services/${made.id}`);
    await waitOrExplain(page.locator('[data-testid="model-status"][data-status="offline"]'), made.id);
    await page.getByTestId('deploy-debug-shell').click();
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await waitOrExplain(page.locator('[data-testid="model-status"][data-status="debug"]'), made.id);
    await page.getByTestId('debug-idle').waitFor();
    // The terminal opens by itself once the replica runs.
    await page.locator('[data-testid="terminal-state"][data-state="open"]').waitFor({ timeout: READY_TIMEOUT });
    assert.notEqual((await gatewayGet(gateway, `debug.${made.name}.service.localhost`)).status, 200, 'idle: its command does not run');
    const term = page.getByTestId('terminal');
    await term.click();
    await page.keyboard.type('echo env-$KUBEFLOW_ENV-$((6*7)); setsid python3 /mnt/admin/by-hand.py </dev/null >/dev/null 2>&1 &');
    await page.keyboard.press('Enter');
    await waitFor(async () => /env-debug-42/.test(await term.textContent()), 20_000, 'the shell to answer');
    await waitFor(async () => (await gatewayGet(gateway, `debug.${made.name}.service.localhost`)).status === 200, READY_TIMEOUT,
      'the server started by hand to answer on the debug host');
    assert.equal((await gatewayGet(gateway, `debug.${made.name}.service.localhost`)).body, REPLY);
    await page.locator('.ant-drawer-close').click();
    const history = page.getByTestId('deploy-history');
    await waitFor(async () => (await history.textContent()).includes('deploy debug with a shell: admin'), 10_000);
    await call('DELETE', `/inference-services/${made.id}`, undefined, 204);
    assert.deepEqual(errors, []);
  });

  test("a replica's log: live, and after a crash its previous instance's log says why", async () => {
    // The first instance says why it dies and exits 3; its replacement serves.
    const script =
      'if [ ! -e /mnt/admin/crashed-once ]; then touch /mnt/admin/crashed-once; echo "first instance: no model found"; exit 3; fi; ' +
      'echo "second instance serving"; exec /usr/bin/python3 -c "$CODE"';
    const created = await call('POST', '/services', serviceDoc('phoenix', 'public', { replicas: 1, command: ['sh', '-c', script], env: { CODE } }), 201);
    await page.goto(`${server.base}/services/${created.id}`);
    await waitOrExplain(page.locator('[data-testid="replica-row-0"][data-state="ready"]'), created.id);
    // The reason of its crash names the exit and the last output.
    const svc = await call('GET', `/services/${created.id}`);
    const failed = svc.events.find((e) => e.kind === 'replica-failed');
    assert.ok(failed, JSON.stringify(svc.events));
    assert.match(failed.message, /exited with code 3; last output: first instance: no model found/);

    const card = page.getByTestId('replica-log-card');
    await page.waitForFunction(() => /second instance serving/.test(document.querySelector('[data-testid="replica-log"]')?.textContent ?? ''), null, {
      timeout: READY_TIMEOUT,
    });
    await card.getByTestId('replica-log-live').waitFor();
    assert.doesNotMatch(await card.getByTestId('replica-log').textContent(), /first instance/);
    await card.getByTestId('replica-log-previous').click();
    await card.getByTestId('replica-log-ended').waitFor();
    await page.waitForFunction(() => /first instance: no model found/.test(document.querySelector('[data-testid="replica-log"]')?.textContent ?? ''));
    assert.match(await card.getByTestId('replica-log').textContent(), /ended: exited with code 3/);
    const api = await fetch(`${server.base}/api/v1/services/${created.id}/logs?replica=0&previous=1`, {
      headers: { Authorization: `Bearer ${adminToken}` },
    });
    assert.equal(await card.getByTestId('replica-log').textContent(), await api.text());

    // A terminal in the running replica sees the file its first instance left.
    await card.getByTestId('replica-terminal').click();
    await page.locator('[data-testid="terminal-state"][data-state="open"]').waitFor();
    const term = page.getByTestId('terminal');
    await term.click();
    await page.keyboard.type('ls /mnt/admin/crashed-once && echo seen-$((2*21))');
    await page.keyboard.press('Enter');
    await waitFor(async () => /seen-42/.test(await term.textContent()), 20_000, 'the replica shell to answer');
    await page.keyboard.type('exit');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="terminal-state"][data-state="closed"]').waitFor();
    assert.equal(await page.getByTestId('terminal-reason').textContent(), 'exit 0');
    await call('DELETE', `/services/${created.id}`, undefined, 204);
    assert.deepEqual(errors, []);
  });

  test('a user who is not a member of the project gets no access to its services', async () => {
    await call('POST', '/projects', { name: 'svc-private', description: 'services of a closed team' }, 201);
    const x = await call('POST', '/services', serviceDoc('private-echo', 'svc-private', { replicas: 1 }), 201);
    const pub = await call('POST', '/services', serviceDoc('public-idle', 'public', { replicas: 0 }), 201);
    await call('POST', '/users', { username: 'eve', password: 'eve-secret-1', email: 'eve@example.com' }, 201);
    const eve = await apiLogin(server.base, 'eve', 'eve-secret-1');

    const list = await call('GET', '/services', undefined, 200, eve);
    assert.ok(!list.items.some((s) => s.id === x.id), 'not in her list');
    assert.ok(list.items.some((s) => s.id === pub.id), 'the public project is hers too');
    for (const [method, p] of [
      ['GET', `/services/${x.id}`],
      ['GET', `/services/private-echo?project=svc-private`],
      ['PUT', `/services/${x.id}`],
      ['DELETE', `/services/${x.id}`],
    ]) {
      const r = await apiCall(server.base, eve, method, p, method === 'PUT' ? serviceDoc('private-echo', 'svc-private') : undefined);
      assert.equal(r.status, 404, `${method} ${p} as eve: ${r.status} ${JSON.stringify(r.body)}`);
    }

    const other = await newPage(browser);
    try {
      await uiLogin(other.page, server.base, 'eve', 'eve-secret-1');
      await other.page.goto(`${server.base}/services/${x.id}`);
      const err = other.page.getByTestId('service-error');
      await err.waitFor();
      const expected = await apiCall(server.base, eve, 'GET', `/services/${x.id}`);
      assert.equal((await err.textContent()).trim(), expected.body.error.message);
      assert.match(await other.page.locator('.ant-result-title').textContent(), /Service not found/);
      assert.equal(await other.page.getByTestId('service-title').count(), 0);

      await other.page.goto(`${server.base}/services`);
      await other.page.locator('[data-testid="service-row-public/public-idle"][data-state="stopped"]').waitFor();
      assert.equal(await other.page.getByTestId('service-row-svc-private/private-echo').count(), 0);
      assert.deepEqual(other.errors, []);
    } finally {
      await other.context.close();
    }
    assert.equal((await call('GET', `/services/${x.id}`)).name, 'private-echo', 'still there for the admin');
    await call('DELETE', `/services/${x.id}`, undefined, 204);
    await call('DELETE', `/services/${pub.id}`, undefined, 204);
  });
});

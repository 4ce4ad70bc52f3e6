// Hyperparameter-search experiments in the web UI against the real server, on the
// process runtime: an experiment whose trials are real local Python processes using the
// `nni` module (Random tuner, 3 trials, 2 at a time) runs to the end on its page, whose
// overview, trial table, charts, trial view and log match the API; the New experiment
// form shows the server's error for an invalid search space and creates nothing; a user
// who is not a member of the experiment's project gets no access to it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiCall, apiLogin, launchBrowser, newPage, pickSelect, startServer, uiLogin, waitFor } from './helpers.mjs';

const FINISH_TIMEOUT = 60_000;

// A trial: reads its parameters, reports 3 intermediate values and a final one computed
// from x (peak at x = 0.6).
const MAIN_PY = `import os, time
import nni

p = nni.get_next_parameter()
x = float(p["x"])
final = 1 - (x - 0.6) ** 2
for step in range(3):
    nni.report_intermediate_result(final * (step + 1) / 4)
    time.sleep(0.1)
nni.report_final_result(final)
with open(os.path.join(os.environ.get("NNI_OUTPUT_DIR", "/outputs"), "model.txt"), "w") as f:
    f.write("x=%r" % x)
print("trial done: x=%r final=%r" % (x, final), flush=True)
`;

const experimentDoc = (name, project = 'public', extra = {}) => ({
  kind: 'Experiment',
  name,
  project,
  describe: 'made by the browser test',
  image: 'quader/python:3.11',
  command: ['/usr/bin/python3', 'main.py'],
  files: { 'main.py': MAIN_PY },
  search_space: { x: { _type: 'uniform', _value: [0, 1] } },
  tuner: 'Random',
  objective: 'maximize',
  max_trials: 3,
  parallelism: 2,
  max_duration: '10m',
  ...extra,
});

/** What the page shows for a number (ExperimentPage's fmtNumber for values in [1e-4, 1e6)). */
const shown = (v) => String(Number(v.toPrecision(6)));

describe('experiments', () => {
  let server;
  let browser;
  let adminToken;
  let context;
  let page;
  let errors;

  before(async () => {
    server = await startServer();
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

  test('an experiment of local nni trials runs to the end; overview, trials, charts and log match the API', async () => {
    const created = await call('POST', '/experiments', experimentDoc('quad-search'), 201);
    assert.equal(created.name, 'quad-search');
    assert.equal(typeof created.key, 'string');

    await page.goto(`${server.base}/experiments/${created.id}`);
    assert.equal((await page.getByTestId('experiment-title').textContent()).trim(), 'quad-search');
    assert.equal((await page.getByTestId('experiment-key').textContent()).trim(), created.key);
    assert.equal((await page.getByTestId('experiment-tuner').textContent()).trim(), 'Random');
    assert.equal((await page.getByTestId('experiment-objective').textContent()).trim(), 'maximize');

    // It ends succeeded without reloading the page.
    try {
      await page.locator('[data-testid="experiment-state"][data-state="succeeded"]').waitFor({ timeout: FINISH_TIMEOUT });
    } catch (e) {
      const now = await apiCall(server.base, adminToken, 'GET', `/experiments/${created.id}`);
      const trials = await apiCall(server.base, adminToken, 'GET', `/experiments/${created.id}/trials`);
      throw new Error(
        `${e.message}\nexperiment: ${JSON.stringify(now.body)}\ntrials: ${JSON.stringify(trials.body)}\n--- server ---\n${server.logTail()}`,
      );
    }

    const exp = await call('GET', `/experiments/${created.id}`);
    assert.equal(exp.state, 'succeeded');
    const { items: trials } = await call('GET', `/experiments/${created.id}/trials?intermediate=1`);
    assert.equal(trials.length, 3, JSON.stringify(trials));
    for (const t of trials) {
      assert.equal(t.state, 'succeeded', JSON.stringify(t));
      assert.equal(typeof t.value, 'number', JSON.stringify(t));
      assert.equal(t.intermediate.length, 3, JSON.stringify(t));
      const x = t.parameters.x;
      assert.ok(x >= 0 && x <= 1, `x=${x}`);
      assert.ok(Math.abs(t.value - (1 - (x - 0.6) ** 2)) < 1e-9, `final value from x: ${JSON.stringify(t)}`);
    }
    const max = Math.max(...trials.map((t) => t.value));
    const bestTrial = trials.find((t) => t.value === max);
    assert.equal(exp.best?.value, max, `best: ${JSON.stringify(exp.best)}`);

    // Overview: counts by state and the best trial.
    await page.locator('[data-testid="trial-count-total"]', { hasText: /^3$/ }).waitFor();
    assert.equal((await page.getByTestId('trial-count-succeeded').textContent()).trim(), '3');
    const bestValue = page.getByTestId('experiment-best-value');
    await page.locator(`[data-testid="experiment-best-value"][data-value="${max}"]`).waitFor();
    assert.equal(Number(await bestValue.getAttribute('data-value')), max);
    assert.equal((await bestValue.textContent()).trim(), shown(max));
    assert.match(await page.getByTestId('experiment-best-trial').textContent(), new RegExp(`#${bestTrial.sequence}\\b`));
    assert.equal((await page.getByTestId('experiment-best-params').textContent()).trim(), `x=${bestTrial.parameters.x}`);

    // The trial table: one row per trial with its state, parameters, value, intermediate count.
    for (const t of trials) {
      const row = page.locator(`[data-testid="trial-row-${t.sequence}"][data-state="succeeded"]`);
      await row.waitFor();
      assert.match(await row.textContent(), new RegExp(t.trial_id));
      assert.equal((await page.getByTestId(`trial-params-${t.sequence}`).textContent()).trim(), `x=${t.parameters.x}`);
      const value = page.getByTestId(`trial-value-${t.sequence}`);
      assert.equal(Number(await value.getAttribute('data-value')), t.value);
      assert.equal((await value.textContent()).trim(), shown(t.value));
      assert.equal((await page.getByTestId(`trial-intermediate-${t.sequence}`).textContent()).trim(), '3');
    }
    assert.equal(await page.locator('[data-testid="trials-table"] tbody tr[data-testid^="trial-row-"]').count(), 3);

    // Charts: one line per trial of intermediate values (3 points each); best value so far.
    const series = page.locator('[data-testid="chart-intermediate"] svg g[data-series]');
    await waitFor(async () => (await series.count()) === 3, 10_000, 'three series in the intermediate chart');
    for (let i = 0; i < 3; i++) {
      assert.equal(await series.nth(i).getAttribute('data-points'), '3');
      assert.equal(await series.nth(i).locator('path').count(), 1, 'each series is drawn as a line');
    }
    const best = page.locator('[data-testid="chart-best"] svg g[data-series^="best so far"]');
    assert.equal(await best.getAttribute('data-points'), '3');

    // A trial's own view: its chart and its log (as the API has it).
    const t0 = [...trials].sort((a, b) => a.sequence - b.sequence)[0];
    await page.getByTestId(`trial-row-${t0.sequence}`).click();
    await page.waitForURL(new RegExp(`/experiments/${created.id}\\?trial=${t0.sequence}$`));
    await page.getByTestId(`trial-view-${t0.sequence}`).waitFor();
    assert.equal(await page.locator(`[data-testid="trial-chart-${t0.sequence}"] svg g[data-series]`).getAttribute('data-points'), '3');
    assert.equal((await page.getByTestId(`trial-exit-code-${t0.sequence}`).textContent()).trim(), '0');
    const res = await fetch(`${server.base}/api/v1/experiments/${created.id}/trials/${t0.sequence}/logs`, {
      headers: { Authorization: `Bearer ${adminToken}` },
    });
    assert.equal(res.status, 200);
    const logText = await res.text();
    assert.match(logText, /trial done: x=/);
    await page.getByTestId('trial-log-ended').waitFor();
    assert.equal(await page.getByTestId('trial-log').evaluate((el) => el.textContent), logText);

    // What the trial left in /outputs becomes a model version, with its parameters and final value.
    await page.getByTestId(`trial-register-${t0.sequence}`).click();
    await page.getByTestId('trial-register-name').fill('quad-model');
    await page.getByTestId('trial-register-submit').click();
    await page.getByTestId(`trial-registered-${t0.sequence}`).waitFor();
    const model = await call('GET', '/models/quad-model?project=public');
    const v1 = model.version_list[0];
    assert.equal(v1.version, 1);
    assert.deepEqual(v1.files.map((f) => f.path), ['model.txt']);
    assert.equal(v1.metrics.default, t0.value);
    assert.equal(v1.params.x, t0.parameters.x);
    assert.equal(v1.source.experiment, created.id);
    assert.equal(v1.source.trial, t0.sequence);

    // Clicking the row again closes it.
    await page.getByTestId(`trial-row-${t0.sequence}`).click();
    await page.waitForURL(`${server.base}/experiments/${created.id}`);
    await page.getByTestId(`trial-view-${t0.sequence}`).waitFor({ state: 'detached' });

    // The list (reached from the menu): state, tuner, trials, best value.
    await page.getByRole('menuitem', { name: /Experiments/ }).click();
    await page.waitForURL(`${server.base}/experiments`);
    const row = page.locator('[data-testid="experiment-row-public/quad-search"][data-state="succeeded"]');
    await row.waitFor();
    const text = await row.textContent();
    assert.match(text, /public/);
    assert.match(text, /Random/);
    assert.match(text, /3\/3/);
    assert.equal(Number(await page.getByTestId(`experiment-best-${created.id}`).getAttribute('data-value')), max);
    await page.getByTestId('experiment-link-public/quad-search').click();
    await page.waitForURL(`${server.base}/experiments/${created.id}`);
    assert.deepEqual(errors, []);
  });

  test('New experiment shows the server error for an invalid search space and creates nothing', async () => {
    const before = (await call('GET', '/experiments')).items.map((x) => x.id);

    await page.goto(`${server.base}/experiments`);
    await page.getByTestId('experiments-table').waitFor();
    await page.getByTestId('new-experiment').click();
    await page.getByTestId('new-experiment-name').fill('bad-space');
    await page.getByTestId('new-experiment-command').fill('["/usr/bin/python3", "main.py"]');
    await pickSelect(page, 'new-experiment-tuner', 'Random');
    await page.getByTestId('new-experiment-main-py').fill(MAIN_PY);

    // Not JSON: refused in the browser, nothing sent.
    let posted = 0;
    const count = (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/experiments') posted++;
    };
    page.on('request', count);
    await page.getByTestId('new-experiment-search-space').fill('{"x": {"_type": "uniform"');
    await page.getByTestId('new-experiment-submit').click();
    await page.locator('.ant-form-item-explain-error', { hasText: /not valid JSON/ }).waitFor();
    assert.equal(posted, 0, 'invalid JSON is not sent');
    page.off('request', count);

    // Valid JSON, unknown _type: the server's message is shown as it is.
    await page.getByTestId('new-experiment-search-space').fill('{"x": {"_type": "uniformm", "_value": [0, 1]}}');
    const [req] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/experiments'),
      page.getByTestId('new-experiment-submit').click(),
    ]);
    const alert = page.getByTestId('new-experiment-error');
    await alert.waitFor();
    const sent = req.postDataJSON();
    assert.equal(sent.name, 'bad-space');
    assert.equal(sent.tuner, 'Random');
    assert.deepEqual(sent.command, ['/usr/bin/python3', 'main.py']);
    assert.deepEqual(sent.search_space, { x: { _type: 'uniformm', _value: [0, 1] } });
    assert.equal(sent.files['main.py'], MAIN_PY);
    const expected = await apiCall(server.base, adminToken, 'POST', '/experiments', sent);
    assert.equal(expected.status, 400, JSON.stringify(expected.body));
    assert.ok(expected.body?.error?.message, JSON.stringify(expected.body));
    assert.equal((await alert.textContent()).trim(), expected.body.error.message);
    assert.ok(await page.getByTestId('new-experiment-submit').isVisible(), 'the form stays open');

    const after = (await call('GET', '/experiments')).items;
    assert.deepEqual(after.map((x) => x.id), before, 'nothing was created');
    assert.ok(!after.some((x) => x.name === 'bad-space'));
    await page.keyboard.press('Escape');
    assert.deepEqual(errors, []);
  });

  test('a user who is not a member of the project gets no access to its experiments', async () => {
    await call('POST', '/projects', { name: 'hpo-private', description: 'experiments of a closed team' }, 201);
    const x = await call('POST', '/experiments', experimentDoc('private-search', 'hpo-private', { max_trials: 1, parallelism: 1 }), 201);
    await call('POST', '/users', { username: 'eve', password: 'eve-secret-1', email: 'eve@example.com' }, 201);
    const eve = await apiLogin(server.base, 'eve', 'eve-secret-1');

    const list = await call('GET', '/experiments', undefined, 200, eve);
    assert.ok(!list.items.some((e) => e.id === x.id), 'not in her list');
    assert.ok(list.items.some((e) => e.name === 'quad-search'), 'the public project is hers too');
    const listed = await apiCall(server.base, eve, 'GET', '/experiments?project=hpo-private');
    assert.ok([403, 404].includes(listed.status) || (listed.status === 200 && listed.body.items.length === 0), JSON.stringify(listed));
    for (const [method, p] of [
      ['GET', `/experiments/${x.id}`],
      ['GET', `/experiments/private-search?project=hpo-private`],
      ['GET', `/experiments/${x.id}/trials`],
      ['GET', `/experiments/${x.id}/trials/0`],
      ['GET', `/experiments/${x.id}/trials/0/logs`],
      ['POST', `/experiments/${x.id}/stop`],
      ['DELETE', `/experiments/${x.id}`],
    ]) {
      const r = await apiCall(server.base, eve, method, p, method === 'POST' ? {} : undefined);
      assert.equal(r.status, 404, `${method} ${p} as eve: ${r.status} ${JSON.stringify(r.body)}`);
    }
    assert.equal((await call('GET', `/experiments/${x.id}`)).name, 'private-search', 'still there for the admin');

    const other = await newPage(browser);
    try {
      await uiLogin(other.page, server.base, 'eve', 'eve-secret-1');
      await other.page.goto(`${server.base}/experiments/${x.id}`);
      const err = other.page.getByTestId('experiment-error');
      await err.waitFor();
      const expected = await apiCall(server.base, eve, 'GET', `/experiments/${x.id}`);
      assert.equal((await err.textContent()).trim(), expected.body.error.message);
      assert.match(await other.page.locator('.ant-result-title').textContent(), /Experiment not found/);
      assert.equal(await other.page.getByTestId('experiment-key').count(), 0);

      await other.page.goto(`${server.base}/experiments`);
      await other.page.getByTestId('experiment-row-public/quad-search').waitFor();
      assert.equal(await other.page.getByTestId('experiment-row-hpo-private/private-search').count(), 0);
      assert.deepEqual(other.errors, []);
    } finally {
      await other.context.close();
    }
    await call('DELETE', `/experiments/${x.id}`, undefined, 204);
  });
});

// Runs, their live view and schedules in the web UI against the real server
// (docs/pipelines.md), on the process runtime: "Run" in the editor lands on the run's
// page, whose DAG turns each task green as it succeeds; a task's pod view and its log
// (read as a stream) match the API; the runs list and its pipeline filter; a running
// run's live log and the Stop button; a scheduled pipeline on the Schedules page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiApply,
  apiCall,
  apiLogin,
  ECHO_TEMPLATE_YAML,
  launchBrowser,
  newPage,
  pickSelect,
  SLEEPER_TEMPLATE_YAML,
  startServer,
  uiLogin,
  waitFor,
} from './helpers.mjs';

const TASK_TIMEOUT = 30_000;

describe('runs', () => {
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
    const r = await apiApply(server.base, adminToken, ECHO_TEMPLATE_YAML + '\n---\n' + SLEEPER_TEMPLATE_YAML);
    assert.equal(r.status, 200, `apply: ${r.status} ${JSON.stringify(r.body)}`);
    ({ context, page, errors } = await newPage(browser));
    await page.setViewportSize({ width: 1600, height: 1000 }); // room for the canvas between the panels
    await uiLogin(page, server.base, 'admin', server.password);
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  const call = async (method, p, body, status = 200) => {
    const r = await apiCall(server.base, adminToken, method, p, body);
    assert.equal(r.status, status, `${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  test('run a pipeline from the editor: the DAG turns green, a task shows its pod view and log', async () => {
    const p = await call(
      'POST',
      '/pipelines',
      {
        name: 'hello-run',
        project: 'public',
        description: 'two tasks in a row',
        tasks: [
          { name: 'first', template: 'echo-hello', args: { '--message': 'one' } },
          { name: 'second', template: 'echo-hello', depends_on: ['first'], args: { '--message': 'two words' } },
        ],
      },
      201,
    );

    await page.goto(`${server.base}/pipelines/${p.id}`);
    await page.getByTestId('task-node-second').waitFor();
    await page.getByTestId('run-button').click();
    await page.waitForURL(/\/runs\/\d+$/);
    const runId = Number(new URL(page.url()).pathname.split('/').pop());
    assert.equal((await page.getByTestId('run-title').textContent()).trim(), `Run #${runId}`);
    assert.equal((await page.getByTestId('run-pipeline').textContent()).trim(), 'hello-run');
    assert.equal((await page.getByTestId('run-trigger').textContent()).trim(), 'manual');

    // Both task nodes end green, and the run succeeds — without reloading the page.
    await page.locator('[data-testid="run-task-first"][data-state="succeeded"]').waitFor({ state: 'attached', timeout: TASK_TIMEOUT });
    await page.locator('[data-testid="run-task-second"][data-state="succeeded"]').waitFor({ state: 'attached', timeout: TASK_TIMEOUT });
    await page.locator('[data-testid="run-state"][data-state="succeeded"]').waitFor({ timeout: 10_000 });
    const color = await page.getByTestId('run-task-second').evaluate((el) => getComputedStyle(el).borderTopColor);
    assert.equal(color, 'rgb(82, 196, 26)', 'succeeded is green');

    const run = await call('GET', `/runs/${runId}`);
    assert.equal(run.state, 'succeeded');
    assert.equal(run.pipeline, 'hello-run');
    const second = run.tasks.find((t) => t.name === 'second');
    assert.equal(second.exit_code, 0);

    // The pod view and log of a task.
    await page.getByTestId('run-task-second').click();
    await page.waitForURL(new RegExp(`/runs/${runId}\\?task=second$`));
    await page.getByTestId('task-view').waitFor();
    assert.match(await page.getByTestId('task-view-name').textContent(), /second/);
    assert.equal((await page.getByTestId('task-exit-code').textContent()).trim(), '0');
    assert.match(await page.getByTestId('task-argv').textContent(), /--message 'two words'/);
    await page.getByTestId('task-attempts').waitFor();

    const apiLog = await fetch(`${server.base}/api/v1/runs/${runId}/tasks/second/logs?attempt=1`, {
      headers: { Authorization: `Bearer ${adminToken}` },
    });
    assert.equal(apiLog.status, 200);
    const logText = await apiLog.text();
    assert.match(logText, /hello from second/);
    assert.match(logText, /message: two words/);
    await page.getByTestId('task-log-ended').waitFor();
    assert.equal(await page.getByTestId('task-log').evaluate((el) => el.textContent), logText);
    // Search keeps the matching lines; Download saves the whole log.
    await page.getByTestId('task-log-tools-search').fill('TWO WORDS');
    await page.getByTestId('task-log-tools-matches').waitFor();
    assert.equal((await page.getByTestId('task-log-tools-matches').textContent()).trim(), '1 line');
    assert.equal((await page.getByTestId('task-log').textContent()).trim(), 'message: two words');
    await page.getByTestId('task-log-tools-search').fill('');
    assert.equal(await page.getByTestId('task-log').evaluate((el) => el.textContent), logText);
    const [saved] = await Promise.all([page.waitForEvent('download'), page.getByTestId('task-log-tools-download').click()]);
    assert.equal(saved.suggestedFilename(), `run-${runId}-second-attempt-1.log`);
    const { readFile: readSaved } = await import('node:fs/promises');
    assert.equal(await readSaved(await saved.path(), 'utf8'), logText);
    // Each line was stamped when it was captured: ?timestamps=1 keeps the
    // stamps (times within the run), and the Timestamps switch shows them.
    const stampedLog = await (await fetch(`${server.base}/api/v1/runs/${runId}/tasks/second/logs?attempt=1&timestamps=1`, {
      headers: { Authorization: `Bearer ${adminToken}` },
    })).text();
    const stampRe = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) /;
    const stampedLines = stampedLog.split('\n').filter((l) => l !== '');
    assert.equal(stampedLines.length, logText.split('\n').filter((l) => l !== '').length);
    for (const line of stampedLines) {
      const m = line.match(stampRe);
      assert.ok(m, `stamped: ${line}`);
      const at = Date.parse(m[1]);
      assert.ok(at >= Date.parse(run.created_at) - 1000 && at <= Date.parse(run.finished_at) + 1000, `${m[1]} within the run`);
    }
    assert.equal(stampedLog.replace(/^\S+Z /gm, ''), logText);
    await page.getByTestId('task-log-tools-timestamps').click();
    await waitFor(async () => stampRe.test(await page.getByTestId('task-log').textContent()), 5000, 'timestamps shown');
    assert.equal(await page.getByTestId('task-log').evaluate((el) => el.textContent), stampedLog);
    await page.getByTestId('task-log-tools-timestamps').click();
    assert.equal(await page.getByTestId('task-log').evaluate((el) => el.textContent), logText);

    // Another task: its own log.
    await page.getByTestId('run-task-first').click();
    await page.getByTestId('task-log-ended').waitFor();
    await page.waitForFunction(() => /hello from first/.test(document.querySelector('[data-testid="task-log"]')?.textContent ?? ''));
    assert.match(await page.getByTestId('task-log').textContent(), /message: one/);

    // At 1280×800 the graph and the clicked task's details sit side by side, both in view;
    // the timeline shows second after first.
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${server.base}/runs/${runId}`);
    await page.getByTestId('run-task-second').click();
    await page.getByTestId('task-view').waitFor();
    const dag = await page.getByTestId('run-tasks-card').boundingBox();
    const view = await page.getByTestId('task-view').boundingBox();
    assert.ok(view.x >= dag.x + dag.width - 1, `task details right of the graph: ${JSON.stringify({ dag, view })}`);
    assert.ok(view.y < 800 - 100 && dag.y < 800 - 100, `both start in view: ${JSON.stringify({ dag, view })}`);
    assert.equal(await page.evaluate(() => window.scrollY), 0, 'no scrolling needed');
    await page.getByTestId('run-tab-timeline').click();
    const firstBar = page.getByTestId('timeline-bar-first');
    const secondBar = page.getByTestId('timeline-bar-second');
    await secondBar.waitFor();
    const f = { from: Number(await firstBar.getAttribute('data-from')), width: Number(await firstBar.getAttribute('data-width')) };
    const s2 = Number(await secondBar.getAttribute('data-from'));
    assert.ok(s2 >= f.from + f.width - 0.02, `second starts after first ends: ${JSON.stringify({ f, s2 })}`);
    await page.getByTestId('timeline-row-first').click();
    await page.waitForURL(new RegExp(`/runs/${runId}\\?task=first$`));
    // On a phone-sized screen nothing scrolls sideways.
    await page.setViewportSize({ width: 390, height: 800 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no horizontal scroll at 390 px: ${overflow} px too wide`);
    await page.setViewportSize({ width: 1600, height: 1000 });

    // The runs list, filtered by pipeline, and the pipelines list's "last run".
    await page.getByRole('menuitem', { name: /Runs/ }).click();
    await page.waitForURL(`${server.base}/runs`);
    const row = page.getByTestId(`run-row-${runId}`);
    await row.waitFor();
    const text = await row.textContent();
    assert.match(text, /hello-run/);
    assert.match(text, /succeeded/);
    assert.match(text, /manual/);
    assert.match(text, /admin/);
    assert.match(text, /2\/2 succeeded/);
    await pickSelect(page, 'runs-pipeline-filter', 'public/hello-run');
    await page.waitForURL(`${server.base}/runs?project=public&pipeline=hello-run`);
    await row.waitFor();
    await page.getByTestId(`run-link-${runId}`).click();
    await page.waitForURL(`${server.base}/runs/${runId}`);

    await page.goto(`${server.base}/pipelines`);
    const last = page.getByTestId('pipeline-last-run-public/hello-run');
    await last.waitFor();
    assert.equal((await last.textContent()).trim(), `#${runId}`);
    assert.deepEqual(errors, []);
  });

  test('a running task shows its log live; Stop ends the run', async () => {
    const p = await call(
      'POST',
      '/pipelines',
      { name: 'sleepy', project: 'public', tasks: [{ name: 'nap', template: 'sleeper' }] },
      201,
    );
    const run = await call('POST', `/pipelines/${p.id}/run`, {}, 201);
    await page.goto(`${server.base}/runs/${run.id}?task=nap`);
    await page.locator('[data-testid="run-task-nap"][data-state="running"]').waitFor({ timeout: TASK_TIMEOUT });
    const color = await page.getByTestId('run-task-nap').evaluate((el) => getComputedStyle(el).borderTopColor);
    assert.equal(color, 'rgb(22, 119, 255)', 'running is blue');
    await page.waitForFunction(() => /sleeper started/.test(document.querySelector('[data-testid="task-log"]')?.textContent ?? ''), null, {
      timeout: TASK_TIMEOUT,
    });
    await page.getByTestId('task-log-live').waitFor();

    await page.getByTestId('stop-run').click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'Stop' }).click();
    await page.locator('[data-testid="run-state"][data-state="stopped"]').waitFor({ timeout: TASK_TIMEOUT });
    await page.locator('[data-testid="run-task-nap"]:not([data-state="running"])').waitFor({ timeout: TASK_TIMEOUT });
    const after = await waitFor(async () => {
      const r = await call('GET', `/runs/${run.id}`);
      return r.state === 'stopped' ? r : null;
    }, 10_000, 'the run to be stopped');
    assert.equal(after.tasks[0].state, await page.getByTestId('run-task-nap').getAttribute('data-state'));
    assert.equal(await page.getByTestId('stop-run').count(), 0, 'no Stop button once the run is over');
    assert.doesNotMatch(await page.getByTestId('task-log').textContent(), /woke up/);
    assert.deepEqual(errors, []);
  });

  test("a task's artifacts: listed, previewed (text, CSV as a table, JSON) and downloaded; links not followed", async () => {
    const r = await apiApply(
      server.base,
      adminToken,
      `
kind: JobTemplate
name: writer
project: public
image: quader/python:3.11
command: ["sh", "-c", "mkdir -p /outputs/plots && printf 'name,score\\nann,3\\nbob,5\\n' > /outputs/plots/scores.csv && echo MODEL-BYTES > /outputs/model.txt && echo '{\\"accuracy\\": 0.9}' > /outputs/metrics.json && ln -s /etc/passwd /outputs/leak"]
`,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const p = await call('POST', '/pipelines', { name: 'arts', project: 'public', tasks: [{ name: 'write', template: 'writer' }] }, 201);
    const run = await call('POST', `/pipelines/${p.id}/run`, {}, 201);
    await page.goto(`${server.base}/runs/${run.id}?task=write`);
    await page.locator('[data-testid="run-task-write"][data-state="succeeded"]').waitFor({ state: 'attached', timeout: TASK_TIMEOUT });
    const table = page.getByTestId('task-artifacts');
    await table.getByTestId('artifact-row-model.txt').waitFor({ timeout: 10_000 });
    const api = await call('GET', `/runs/${run.id}/tasks/write/artifacts`);
    for (const a of api.items) await table.getByTestId(`artifact-row-${a.path}`).waitFor();
    assert.match(await table.getByTestId('artifact-row-leak').textContent(), /link: not followed/);
    assert.equal(await table.getByTestId('artifact-download-leak').count(), 0);

    // Previews: text as it is, CSV as a table, JSON indented.
    const closePreview = async () => {
      await page.locator('.ant-modal-close').click();
      await page.getByTestId('artifact-preview').waitFor({ state: 'detached' });
    };
    await page.getByTestId('artifact-preview-model.txt').click();
    await page.getByTestId('artifact-preview-text').waitFor();
    assert.equal((await page.getByTestId('artifact-preview-text').textContent()).trim(), 'MODEL-BYTES');
    await closePreview();
    await page.getByTestId('artifact-preview-plots/scores.csv').click();
    const csv = page.getByTestId('artifact-preview-table');
    await csv.waitFor();
    assert.deepEqual(await csv.locator('th').allTextContents(), ['name', 'score']);
    assert.deepEqual(await csv.locator('tbody td').allTextContents(), ['ann', '3', 'bob', '5']);
    await closePreview();
    await page.getByTestId('artifact-preview-metrics.json').click();
    await page.waitForFunction(() => /"accuracy": 0.9/.test(document.querySelector('[data-testid="artifact-preview-text"]')?.textContent ?? ''));
    await closePreview();

    // A download is the file's bytes.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('artifact-download-model.txt').click()]);
    assert.equal(download.suggestedFilename(), 'model.txt');
    const path = await download.path();
    const { readFile } = await import('node:fs/promises');
    assert.equal(await readFile(path, 'utf8'), 'MODEL-BYTES\n');
    assert.deepEqual(errors, []);
  });

  test('a failed run: the banner leads to the failed task; Retry failed tasks runs only those; Re-run runs all', async () => {
    const { writeFile } = await import('node:fs/promises');
    const r = await apiApply(
      server.base,
      adminToken,
      `
kind: JobTemplate
name: needs-flag
project: public
image: quader/python:3.11
command: ["sh", "-c", "echo \\"attempt of $KFJ_TASK_NAME\\"; [ \\"$KFJ_TASK_NAME\\" = first ] || [ -e /mnt/admin/flag ] || { echo no flag yet; exit 5; }"]
`,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const p = await call('POST', '/pipelines', {
      name: 'mendable', project: 'public',
      tasks: [{ name: 'first', template: 'needs-flag' }, { name: 'second', template: 'needs-flag', depends_on: ['first'] }],
    }, 201);
    const run = await call('POST', `/pipelines/${p.id}/run`, {}, 201);
    await page.goto(`${server.base}/runs/${run.id}`);
    await page.locator('[data-testid="run-state"][data-state="failed"]').waitFor({ timeout: TASK_TIMEOUT });
    await page.getByTestId('run-failed-task-link').click();
    await page.waitForURL(new RegExp(`/runs/${run.id}\\?task=second$`));
    await page.waitForFunction(() => /no flag yet/.test(document.querySelector('[data-testid="task-log"]')?.textContent ?? ''));

    await writeFile(`${server.dataDir}/users/admin/work/flag`, 'yes');
    await page.getByTestId('retry-run').click();
    await page.waitForURL((u) => /\/runs\/\d+$/.test(u.pathname) && u.pathname !== `/runs/${run.id}`);
    const retryId = Number(new URL(page.url()).pathname.split('/').pop());
    await page.getByTestId('run-title').filter({ hasText: `Run #${retryId}` }).waitFor();
    await page.locator('[data-testid="run-state"][data-state="succeeded"]').waitFor({ timeout: TASK_TIMEOUT });
    const retried = await call('GET', `/runs/${retryId}`);
    assert.equal(retried.trigger, 'retry');
    const first = retried.tasks.find((t) => t.name === 'first');
    assert.equal(first.attempt, 0, 'first was carried over, not run again');
    assert.match(first.reason, new RegExp(`succeeded in run ${run.id}`));
    assert.equal(retried.tasks.find((t) => t.name === 'second').attempt, 1);
    assert.equal(await page.getByTestId('retry-run').count(), 0, 'a succeeded run has nothing to retry');

    await page.getByTestId('rerun-run').click();
    await page.waitForURL((u) => /\/runs\/\d+$/.test(u.pathname) && u.pathname !== `/runs/${retryId}`);
    const rerunId = Number(new URL(page.url()).pathname.split('/').pop());
    // The page shows the new run, not the previous one under the new address.
    await page.getByTestId('run-title').filter({ hasText: `Run #${rerunId}` }).waitFor();
    await page.locator('[data-testid="run-state"][data-state="succeeded"]').waitFor({ timeout: TASK_TIMEOUT });
    const rerun = await call('GET', `/runs/${rerunId}`);
    assert.equal(rerun.trigger, 'rerun');
    assert.ok(rerun.tasks.every((t) => t.attempt === 1), 'a rerun runs every task');
    assert.deepEqual(errors, []);
  });

  test("a running task's Terminal: a shell inside it, as its user; exit ends it with the code", async () => {
    const p = await call('POST', '/pipelines', { name: 'shell-in', project: 'public', tasks: [{ name: 'nap', template: 'sleeper' }] }, 201);
    const run = await call('POST', `/pipelines/${p.id}/run`, {}, 201);
    try {
      await page.goto(`${server.base}/runs/${run.id}?task=nap`);
      await page.locator('[data-testid="task-state"][data-state="running"]').waitFor({ timeout: TASK_TIMEOUT });
      await page.getByTestId('task-terminal').click();
      await page.locator('[data-testid="terminal-state"][data-state="open"]').waitFor();
      const term = page.getByTestId('terminal');
      await term.click();
      await page.keyboard.type('echo hi-$((6*7)) uid=$(id -u); test -d /outputs && echo in-the-task');
      await page.keyboard.press('Enter');
      await waitFor(async () => /hi-42 uid=\d+/.test(await term.textContent()) && /in-the-task/.test(await term.textContent()), 20_000, 'the shell to answer');
      const uid = Number((await term.textContent()).match(/hi-42 uid=(\d+)/)[1]);
      assert.notEqual(uid, 0, 'the shell is not root: it runs as the task user');
      await page.keyboard.type('exit 5');
      await page.keyboard.press('Enter');
      await page.locator('[data-testid="terminal-state"][data-state="closed"]').waitFor();
      assert.equal(await page.getByTestId('terminal-reason').textContent(), 'exit 5');
      await page.locator('.ant-drawer-close').click();
      await page.getByTestId('terminal').waitFor({ state: 'detached' });

      // Save as image: a build that commits the task's workload. This server runs
      // the process runtime, which has no engine to commit with: the build is
      // refused by name and nothing is created.
      const task = (await call('GET', `/runs/${run.id}?task=nap`)).tasks[0];
      await page.getByTestId('task-save-image').click();
      assert.equal(await page.getByTestId('new-build-commit').inputValue(), task.workload);
      await page.getByTestId('new-build-image').fill('team/debugged:1');
      await page.getByTestId('new-build-submit').click();
      await waitFor(async () => /commit build .*needs a container engine/.test(
        (await page.getByTestId('new-build-error').textContent().catch(() => '')) ?? ''), 10_000, 'the refusal');
      assert.deepEqual((await call('GET', '/image-builds')).items.filter((b) => b.commit === task.workload), []);
      await page.keyboard.press('Escape');
    } finally {
      await call('POST', `/runs/${run.id}/stop`, {});
    }
    assert.deepEqual(errors, []);
  });

  test('a run of 520 tasks: counts per state and a table read a page at a time; a task on a later page opens', async () => {
    const tasks = Array.from({ length: 520 }, (_, i) => ({ name: `w${i}`, template: 'sleeper' }));
    const p = await call('POST', '/pipelines', { name: 'wide', project: 'public', parallelism: 1, tasks }, 201);
    const run = await call('POST', `/pipelines/${p.id}/run`, {}, 201);
    try {
      await page.goto(`${server.base}/runs/${run.id}`);
      await page.getByTestId('run-big').waitFor();
      assert.equal(await page.locator('.react-flow').count(), 0, 'no graph of 520 nodes');
      await page.getByTestId('run-count-running').waitFor({ timeout: TASK_TIMEOUT });
      assert.match(await page.getByTestId('run-count-pending').textContent(), /519/);
      await page.getByTestId('big-run-task-w0').waitFor();
      assert.equal(await page.getByTestId('big-run-task-w50').count(), 0, 'one page of 50');

      await page.getByTestId('run-big').locator('.ant-pagination-item-2').click();
      await page.getByTestId('big-run-task-w60').click();
      await page.waitForURL(new RegExp(`/runs/${run.id}\\?task=w60$`));
      assert.equal(await page.getByTestId('task-view-name').textContent(), 'w60');

      // A task the first page does not hold, opened by its address.
      await page.goto(`${server.base}/runs/${run.id}?task=w519`);
      await page.getByTestId('task-view-name').filter({ hasText: 'w519' }).waitFor();
      assert.match(await page.getByTestId('task-view').textContent(), /pending/);
    } finally {
      await call('POST', `/runs/${run.id}/stop`, {});
    }
    assert.deepEqual(errors, []);
  });

  test('a scheduled pipeline: cron and time zone in the lists, next fire, schedule records page', async () => {
    const p = await call(
      'POST',
      '/pipelines',
      {
        name: 'nightly',
        project: 'public',
        schedule: { cron: '0 2 * * *', timezone: 'Asia/Shanghai', catchup: 'none', enabled: true },
        tasks: [{ name: 'hello', template: 'echo-hello', args: { '--message': 'good night' } }],
      },
      201,
    );
    assert.ok(p.next_fire, 'the server says when it fires next');

    await page.goto(`${server.base}/pipelines`);
    const row = page.getByTestId('pipeline-row-public/nightly');
    await row.waitFor();
    assert.match(await row.textContent(), /0 2 \* \* \*/);
    assert.match(await row.textContent(), /Asia\/Shanghai/);

    await page.getByRole('menuitem', { name: /Schedules/ }).click();
    await page.waitForURL(`${server.base}/schedules`);
    const scheduled = page.getByTestId('scheduled-pipelines');
    await scheduled.getByText('nightly').waitFor();
    assert.match(await scheduled.textContent(), /Asia\/Shanghai/);
    await page.getByTestId('schedules-table').waitFor();
    const recs = await call('GET', '/schedules?pipeline=nightly&project=public');
    assert.ok(Array.isArray(recs.items));
    for (const r of recs.items) await page.getByTestId(`schedule-row-${r.id}`).waitFor();

    // The schedule settings in the editor.
    await page.goto(`${server.base}/pipelines/${p.id}`);
    await page.getByTestId('tab-pipeline').click();
    assert.equal(await page.getByTestId('schedule-cron').inputValue(), '0 2 * * *');
    assert.equal(await page.getByTestId('schedule-timezone').inputValue(), 'Asia/Shanghai');
    assert.deepEqual(errors, []);
  });
});

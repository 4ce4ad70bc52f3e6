// Images and image builds in the web UI against the real server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiCall, apiLogin, launchBrowser, newPage, pickSelect, startServer, uiLogin } from './helpers.mjs';

const PROJECT = 'team-img';
const STATES = ['pending', 'running', 'succeeded', 'failed'];

describe('images', () => {
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
    const p = await apiCall(server.base, adminToken, 'POST', '/projects', { name: PROJECT, description: 'image tests' });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    ({ context, page, errors } = await newPage(browser));
    await uiLogin(page, server.base, 'admin', server.password);
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  const get = async (p) => {
    const r = await apiCall(server.base, adminToken, 'GET', p);
    assert.equal(r.status, 200, `GET ${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  test('register an image through the UI; it is listed, filtered by project, and deleted', async () => {
    assert.deepEqual((await get(`/images?project=${PROJECT}`)).items, [], 'no images before');

    // The menu entry is live now (no "soon" tag) and opens the list.
    const item = page.getByRole('menuitem', { name: /Images/ });
    assert.notEqual(await item.getAttribute('aria-disabled'), 'true');
    assert.doesNotMatch(await item.textContent(), /soon/);
    await item.click();
    await page.waitForURL(`${server.base}/images`);
    await page.getByTestId('images-table').waitFor();

    await page.getByTestId('register-image').click();
    await pickSelect(page, 'register-image-project', PROJECT);
    await page.getByTestId('register-image-ref').fill('python:3.11-slim');
    await page.getByTestId('register-image-description').fill('Slim Python from the browser test');
    await page.getByTestId('register-image-submit').click();

    const row = page.getByTestId(`image-row-${PROJECT}/python:3.11-slim`);
    await row.waitFor();
    const text = await row.textContent();
    assert.match(text, /Slim Python from the browser test/);
    assert.match(text, /registry/, 'source tag');
    assert.match(text, /admin/, 'created by');
    assert.match(text, new RegExp(PROJECT));

    const saved = (await get(`/images?project=${PROJECT}`)).items;
    assert.equal(saved.length, 1);
    assert.equal(saved[0].ref, 'python:3.11-slim');
    assert.equal(saved[0].project, PROJECT);
    assert.equal(saved[0].source, 'registry');
    assert.equal(saved[0].description, 'Slim Python from the browser test');
    assert.equal(saved[0].created_by, 'admin');

    // The project filter asks the server for one project's images (and keeps it in the URL).
    await pickSelect(page, 'images-project-filter', 'public');
    await page.waitForURL(`${server.base}/images?project=public`);
    await row.waitFor({ state: 'detached' });
    await pickSelect(page, 'images-project-filter', PROJECT);
    await page.waitForURL(`${server.base}/images?project=${PROJECT}`);
    await row.waitFor();
    await pickSelect(page, 'images-project-filter', 'All projects');
    await page.waitForURL(`${server.base}/images`);
    await row.waitFor();

    // Delete, with confirmation.
    await page.getByTestId(`image-delete-${saved[0].id}`).click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'Delete' }).click();
    await row.waitFor({ state: 'detached' });
    assert.deepEqual((await get(`/images?project=${PROJECT}`)).items, [], 'deleted on the server');
    assert.deepEqual(errors, []);
  });

  test('a bad image reference shows the server error and registers nothing', async () => {
    const expected = await apiCall(server.base, adminToken, 'POST', '/images', { project: PROJECT, ref: 'Bad Image!!' });
    assert.equal(expected.status, 400);
    assert.ok(expected.body?.error?.message, 'the server explains the 400');

    await page.goto(`${server.base}/images`);
    await page.getByTestId('images-table').waitFor();
    await page.getByTestId('register-image').click();
    await pickSelect(page, 'register-image-project', PROJECT);
    await page.getByTestId('register-image-ref').fill('Bad Image!!');
    await page.getByTestId('register-image-submit').click();
    const alert = page.getByTestId('register-image-error');
    await alert.waitFor();
    assert.equal((await alert.textContent()).trim(), expected.body.error.message);
    assert.deepEqual((await get(`/images?project=${PROJECT}`)).items, [], 'nothing registered');
    await page.keyboard.press('Escape');
  });

  test('a build made through the UI lands on its page, which shows its state and log', async () => {
    // A registered image feeds the "from" suggestions.
    const base = await apiCall(server.base, adminToken, 'POST', '/images', {
      project: 'public',
      ref: 'quader/python:3.11',
      description: 'base',
    });
    assert.equal(base.status, 201, JSON.stringify(base.body));
    assert.deepEqual((await get(`/image-builds?project=${PROJECT}`)).items, [], 'no builds before');

    await page.goto(`${server.base}/images`);
    await page.getByTestId('tab-builds').click();
    await page.waitForURL(`${server.base}/images/builds`);
    await page.getByTestId('builds-table').waitFor();
    await page.getByTestId('new-build').click();
    await pickSelect(page, 'new-build-project', PROJECT);
    await page.getByTestId('new-build-name').fill('web-build');
    await page.getByTestId('new-build-image').fill('team/web-build:1');
    const from = page.getByTestId('new-build-from').locator('input');
    await from.fill('quader/py');
    await page.getByTestId('from-option-quader/python:3.11').click();
    assert.equal(await from.inputValue(), 'quader/python:3.11');
    const dockerfile = page.getByTestId('new-build-dockerfile');
    await dockerfile.fill('RUN echo hello > /hello');
    assert.match(await dockerfile.evaluate((el) => getComputedStyle(el).fontFamily), /mono/i, 'dockerfile is monospace');
    const config = page.getByTestId('new-build-config');
    assert.match(await config.getAttribute('placeholder'), /"resource_memory": "8G"/);

    // Not a JSON object: refused locally, nothing is sent.
    await config.fill('[1, 2]');
    await page.getByTestId('new-build-submit').click();
    await page.locator('.ant-form-item-explain-error', { hasText: 'config must be a JSON object' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/images/builds');
    assert.deepEqual((await get(`/image-builds?project=${PROJECT}`)).items, [], 'nothing sent');

    // A JSON object the server refuses: its message verbatim.
    const badConfig = { resource_memory: 'lots' };
    const expected = await apiCall(server.base, adminToken, 'POST', '/image-builds', {
      project: PROJECT,
      name: 'web-build',
      image: 'team/web-build:1',
      from: 'quader/python:3.11',
      dockerfile: 'RUN echo hello > /hello',
      config: badConfig,
    });
    assert.equal(expected.status, 400, JSON.stringify(expected.body));
    await config.fill(JSON.stringify(badConfig));
    await page.getByTestId('new-build-submit').click();
    const alert = page.getByTestId('new-build-error');
    await alert.waitFor();
    assert.equal((await alert.textContent()).trim(), expected.body.error.message);
    assert.deepEqual((await get(`/image-builds?project=${PROJECT}`)).items, [], 'nothing built');

    await config.fill('{"resource_memory": "1G", "resource_cpu": "1"}');
    await page.getByTestId('new-build-description').fill('from the browser test');
    await page.getByTestId('new-build-submit').click();
    await page.waitForURL(/\/images\/builds\/\d+$/);
    const id = Number(new URL(page.url()).pathname.split('/').pop());

    const builds = (await get(`/image-builds?project=${PROJECT}`)).items;
    assert.equal(builds.length, 1);
    const b = builds[0];
    assert.equal(b.id, id, 'the page is the new build');
    assert.equal(b.name, 'web-build');
    assert.equal(b.image, 'team/web-build:1');
    assert.equal(b.from, 'quader/python:3.11');
    assert.equal(b.dockerfile, 'RUN echo hello > /hello');
    assert.equal(b.commit, null);
    assert.deepEqual(b.config, { resource_memory: '1G', resource_cpu: '1' });
    assert.equal(b.description, 'from the browser test');
    assert.equal(b.created_by, 'admin');

    // The page: name, a state tag, the log panel.
    assert.equal((await page.getByTestId('build-name').textContent()).trim(), 'web-build');
    assert.equal((await page.getByTestId('build-image').textContent()).trim(), 'team/web-build:1');
    const stateTag = page.getByTestId('build-state');
    await stateTag.waitFor();
    assert.ok(STATES.includes((await stateTag.textContent()).trim()), 'a known state');
    const log = page.getByTestId('build-log');
    await log.waitFor();

    // Wait a while for the build to end; a server without an engine fails it at once.
    let final = null;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(250)) {
      const cur = await get(`/image-builds/${id}`);
      if (cur.state === 'succeeded' || cur.state === 'failed') {
        final = cur;
        break;
      }
    }
    if (final) {
      // The page reads the build again when the log stream ends, and shows how it ended.
      await page.locator(`[data-testid="build-state"][data-state="${final.state}"]`).waitFor({ timeout: 15_000 });
      assert.equal((await stateTag.textContent()).trim(), final.state);
      if (final.state === 'failed') {
        assert.ok(final.reason, 'a failed build says why');
        const reason = page.getByTestId('build-reason');
        await reason.waitFor();
        assert.equal((await reason.textContent()).trim(), final.reason.trim());
      }
      // The panel holds exactly the log the server has.
      const res = await fetch(`${server.base}/api/v1/image-builds/${id}/logs`, {
        headers: { Authorization: `Bearer ${adminToken}` },
      });
      assert.equal(res.status, 200);
      const serverLog = await res.text();
      assert.ok(serverLog.length > 0, 'a finished build has a log');
      await page.waitForFunction(
        (want) => document.querySelector('[data-testid="build-log"]')?.textContent === want,
        serverLog,
        { timeout: 10_000 },
      );
      await page.getByTestId('build-log-ended').waitFor();
    } else {
      // Still under way: the page says so.
      const shown = (await stateTag.textContent()).trim();
      assert.ok(['pending', 'running'].includes(shown), `an unfinished build shows pending or running, not ${shown}`);
      if (shown === 'pending' && (await log.textContent()) === '') await page.getByTestId('build-log-waiting').waitFor();
    }

    // The list shows it with its state.
    await page.goto(`${server.base}/images/builds?project=${PROJECT}`);
    const row = page.getByTestId(`build-row-${PROJECT}/web-build`);
    await row.waitFor();
    const now = await get(`/image-builds/${id}`);
    assert.match(await row.textContent(), /team\/web-build:1/);
    if (final) assert.match(await row.textContent(), new RegExp(final.state));
    assert.equal(now.project, PROJECT);
    assert.deepEqual(errors, []);
  });

  test('a build that commits a workload sends only the workload name; without an engine the server refuses it by name', async () => {
    await page.goto(`${server.base}/images/builds?project=${PROJECT}`);
    await page.getByTestId('builds-table').waitFor();
    await page.getByTestId('new-build').click();
    // The form starts in the filtered project.
    await page.getByTestId('new-build-name').fill('web-commit');
    await page.getByTestId('new-build-image').fill('team/web-commit:1');
    await page.getByTestId('new-build-dockerfile').fill('RUN echo not sent');
    await page.getByTestId('method-commit').click();
    assert.equal(await page.getByTestId('new-build-dockerfile').count(), 0, 'dockerfile fields are hidden');
    await page.getByTestId('new-build-commit').fill('my-notebook');
    const [sent] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/image-builds'),
      page.getByTestId('new-build-submit').click(),
    ]);
    assert.deepEqual(JSON.parse(sent.postData()), { project: PROJECT, name: 'web-commit', image: 'team/web-commit:1', commit: 'my-notebook' });
    // This server runs the process runtime: no engine can commit, so the form shows
    // the server's refusal and nothing is recorded.
    const error = page.getByTestId('new-build-error');
    await error.waitFor();
    assert.match(await error.textContent(), /commit: a commit build .*needs a container engine/);
    assert.equal((await get(`/image-builds?project=${PROJECT}`)).items.filter((b) => b.name === 'web-commit').length, 0);
    await page.keyboard.press('Escape');

    // A build's page deletes it, with confirmation.
    const made = await apiCall(server.base, adminToken, 'POST', '/image-builds', {
      project: PROJECT, name: 'web-delete', image: 'team/web-delete:1', from: 'quader/python:3.11', dockerfile: 'RUN true',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await page.goto(`${server.base}/images/builds/${made.body.id}`);
    await page.getByTestId('build-state').waitFor();
    await page.getByTestId('delete-build').click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(`${server.base}/images/builds?project=${PROJECT}`);
    assert.equal((await apiCall(server.base, adminToken, 'GET', `/image-builds/${made.body.id}`)).status, 404);
    assert.deepEqual(errors, []);
  });

  test('an unknown build shows the server message', async () => {
    const expected = await apiCall(server.base, adminToken, 'GET', '/image-builds/999999');
    assert.equal(expected.status, 404);
    await page.goto(`${server.base}/images/builds/999999`);
    const msg = page.getByTestId('build-error');
    await msg.waitFor();
    assert.equal((await msg.textContent()).trim(), expected.body.error.message);
  });
});

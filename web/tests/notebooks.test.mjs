// Notebooks in the web UI against the real server, on the process runtime (Debian's
// jupyter-notebook and python3-ipykernel): the admin creates a Jupyter notebook in the
// New notebook form, sees it become running, opens it through the gateway in a new tab
// and runs `2+2` in a new Python notebook document; the Logs drawer shows the server's
// output; another user gets 404 from the gateway (and sees only his own notebooks, which
// the admin lists but cannot open) and an anonymous visitor is sent to the
// login page, which brings the owner back to the notebook (and ignores a `next` that is
// not a notebook on this host); the form shows the server's error for a bad name; Stop,
// Start, Reset and Delete work from the list, and deleting a notebook ends its server
// and kernel processes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  apiCall, apiLogin, deleteNotebooks, launchBrowser, newPage, processesMatching, startServer, uiLogin, waitFor,
} from './helpers.mjs';

const READY_TIMEOUT = 60_000;
const KERNEL_TIMEOUT = 60_000;


describe('notebooks', { timeout: 600_000 }, () => {
  let server;
  let browser;
  let adminToken;
  let gateway;
  let context;
  let page;
  let errors;
  /** The notebook test (a) creates and the later tests use. */
  let nb;
  /** The kernel it started ("kernel-<id>" is on the kernel's command line). */
  let kernelId;

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
    // Notebook servers are workloads of their own (they outlive a server that is killed):
    // delete every notebook so the controller stops them before the server goes.
    if (server && adminToken) await deleteNotebooks(server, adminToken);
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  const call = async (method, p, body, status = 200, token = adminToken) => {
    const r = await apiCall(server.base, token, method, p, body);
    assert.equal(r.status, status, `${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  /** Waits for a locator; on time-out, fails with the notebook as the API has it and the server log. */
  const waitOrExplain = async (locator, timeout = READY_TIMEOUT) => {
    try {
      await locator.waitFor({ timeout });
    } catch (e) {
      const now = nb ? await apiCall(server.base, adminToken, 'GET', `/notebooks/${nb.id}`) : null;
      throw new Error(`${e.message}\nnotebook: ${JSON.stringify(now?.body)}\n--- server ---\n${server.logTail()}`);
    }
  };

  const stateTag = (name, state) => page.locator(`[data-testid="notebook-state-${name}"][data-state="${state}"]`);

  test('the admin creates a Jupyter notebook in the form, opens it through the gateway and runs 2+2', { timeout: 240_000 }, async () => {
    await page.getByRole('menuitem', { name: /Notebooks/ }).click();
    await page.waitForURL(`${server.base}/notebooks`);
    await page.getByTestId('notebooks-table').waitFor();

    await page.getByTestId('new-notebook').click();
    const nameInput = page.getByTestId('notebook-form-name');
    await nameInput.waitFor();
    const name = await nameInput.inputValue();
    assert.match(name, /^admin-[0-9a-f]{4}$/, 'the name is suggested as <username>-<4 hex>');
    assert.equal(await page.getByTestId('notebook-form-image').getAttribute('placeholder'), 'quader/notebook:1');
    // The type decides the default image (the placeholder); on a loaded machine the
    // modal may still be settling when the first click comes, so the click is repeated.
    const imageFor = async (type, image) =>
      waitFor(async () => {
        await page.getByTestId('notebook-form-type').getByText(type).click();
        return (await page.getByTestId('notebook-form-image').getAttribute('placeholder')) === image;
      }, 10_000, `the ${type} image placeholder`);
    await imageFor('VS Code', 'quader/vscode:1');
    await imageFor('Jupyter', 'quader/notebook:1');
    await page.getByTestId('notebook-form-description').fill('made by the browser test');
    await page.getByTestId('notebook-form-env').fill('GREETING=hello\nMODE=test');
    await page.getByTestId('notebook-form-submit').click();

    const row = page.getByTestId(`notebook-row-${name}`);
    await row.waitFor();
    const list = await call('GET', '/notebooks');
    nb = list.items.find((n) => n.name === name);
    assert.ok(nb, `${name} in ${JSON.stringify(list.items)}`);
    // What the form sent: its fields, the defaults left to the server.
    assert.equal(nb.project, 'public');
    assert.equal(nb.type, 'jupyter');
    assert.equal(nb.image, 'quader/notebook:1');
    assert.equal(nb.description, 'made by the browser test');
    assert.deepEqual(nb.env, { GREETING: 'hello', MODE: 'test' });
    assert.deepEqual(nb.resources, { cpu: 1, memory: '2G', gpu: 0 });
    assert.equal(nb.created_by, 'admin');
    assert.equal(nb.path, `/notebook/public/${name}/`);

    // It becomes running without a reload (the list is re-read while it is pending).
    await waitOrExplain(stateTag(name, 'running'));
    nb = await call('GET', `/notebooks/${nb.id}`);
    assert.equal(nb.state, 'running');
    assert.equal(nb.server?.ready, true, JSON.stringify(nb.server));
    assert.equal(nb.url, `${gateway.replace(/\/+$/, '')}${nb.path}`);
    const cells = (await row.locator('td').allTextContents()).map((c) => c.trim());
    assert.equal(cells[0], `${name}made by the browser test`);
    assert.equal(cells[1], 'public');
    assert.equal(cells[2], 'Jupyter');
    assert.equal(cells[4], 'admin');

    // Open: the notebook's URL on this page's host name, in a new tab.
    const open = page.getByTestId(`notebook-open-${name}`);
    const expectedHref = new URL(nb.url);
    expectedHref.hostname = new URL(server.base).hostname;
    assert.equal(await open.getAttribute('href'), expectedHref.href);
    assert.equal(await open.getAttribute('target'), '_blank');
    const [tab] = await Promise.all([context.waitForEvent('page'), open.click()]);
    tab.setDefaultTimeout(20_000);
    await tab.waitForURL(`${nb.url}tree**`);
    await tab.locator('#notebook_list').waitFor();
    assert.match(await tab.title(), /Home Page/);

    // A new Python notebook document, made through Jupyter's contents API from the page
    // (Jupyter wants its _xsrf cookie echoed in X-XSRFToken for a POST without a token).
    const made = await tab.evaluate(async (base) => {
      const xsrf = document.cookie
        .split('; ')
        .find((c) => c.startsWith('_xsrf='))
        ?.slice('_xsrf='.length);
      const headers = { 'Content-Type': 'application/json' };
      if (xsrf) headers['X-XSRFToken'] = xsrf;
      const r = await fetch(`${base}api/contents`, { method: 'POST', headers, body: JSON.stringify({ type: 'notebook' }) });
      return { status: r.status, body: await r.json() };
    }, nb.path);
    assert.equal(made.status, 201, JSON.stringify(made));
    assert.match(made.body.path, /\.ipynb$/);

    await tab.goto(`${nb.url}notebooks/${encodeURIComponent(made.body.path)}`);
    await tab.locator('.CodeMirror').first().waitFor();
    // The kernel (python3-ipykernel) takes a few seconds to start.
    await tab.locator('#kernel_indicator_icon.kernel_idle_icon').waitFor({ timeout: KERNEL_TIMEOUT });
    await tab.locator('.CodeMirror').first().click();
    await tab.keyboard.type('2+2');
    await tab.keyboard.press('Shift+Enter');
    const result = tab.locator('.output_area .output_result');
    await result.first().waitFor({ timeout: KERNEL_TIMEOUT });
    assert.equal((await result.first().innerText()).trim(), '4');
    assert.match(await tab.locator('.input_prompt').first().innerText(), /In\s*\[1\]/);

    const kernels = await tab.evaluate(async (base) => (await fetch(`${base}api/kernels`)).json(), nb.path);
    assert.equal(kernels.length, 1, JSON.stringify(kernels));
    kernelId = kernels[0].id;
    assert.equal(processesMatching(`kernel-${kernelId}`).length, 1, 'the kernel runs');
    await tab.close();

    // The server saw the activity through the gateway.
    await waitFor(async () => (await call('GET', `/notebooks/${nb.id}`)).last_activity, 20_000, 'last_activity');
    assert.deepEqual(errors, []);
  });

  test("the Logs drawer streams the notebook server's output", { timeout: 60_000 }, async () => {
    assert.ok(nb, 'the notebook of the first test');
    await page.getByTestId(`notebook-logs-${nb.name}`).click();
    const log = page.getByTestId('notebook-log');
    await page.getByTestId('notebook-log-live').waitFor();
    await waitFor(async () => /Jupyter Notebook [\d.]+ is running at/.test(await log.innerText()), 20_000, 'the Jupyter banner in the log');
    const shown = await log.innerText();
    // The same text as the log route gives (which may have grown since).
    const res = await fetch(`${server.base}/api/v1/notebooks/${nb.id}/logs`, { headers: { Authorization: `Bearer ${adminToken}` } });
    assert.equal(res.status, 200);
    const full = await res.text();
    assert.ok(full.startsWith(shown.trimEnd()), `the UI log is the start of the API log:\n${shown}\n---\n${full}`);
    assert.ok(shown.includes(`Serving notebooks from local directory: /mnt/admin`), shown);
    await page.keyboard.press('Escape');
    await log.waitFor({ state: 'detached' });
  });

  test('another user gets 404 from the gateway; an anonymous visitor signs in and lands on the notebook', { timeout: 120_000 }, async () => {
    assert.ok(nb, 'the notebook of the first test');
    await call('POST', '/users', { username: 'bob', password: 'bob-secret-1', email: 'bob@example.com' }, 201);
    const bobToken = await apiLogin(server.base, 'bob', 'bob-secret-1');
    assert.deepEqual((await call('GET', '/notebooks', undefined, 200, bobToken)).items, [], 'not in his list');
    await call('GET', `/notebooks/${nb.id}`, undefined, 404, bobToken);

    const bob = await newPage(browser);
    try {
      await uiLogin(bob.page, server.base, 'bob', 'bob-secret-1');
      const res = await bob.page.goto(nb.url);
      assert.equal(res.status(), 404);
      assert.equal(new URL(bob.page.url()).pathname, nb.path, 'no redirect');
      assert.equal(await bob.page.locator('#notebook_list, #ipython-main-app, .CodeMirror').count(), 0, 'no Jupyter page');
      assert.doesNotMatch(await bob.page.content(), /jupyter/i);
      // His Notebooks page lists nothing.
      await bob.page.goto(`${server.base}/notebooks`);
      await bob.page.locator('[data-testid="notebooks-table"] .ant-empty').waitFor();
      assert.equal(await bob.page.getByTestId(`notebook-row-${nb.name}`).count(), 0);

      // A notebook of his own: he sees only it and may open it; the admin sees it too, but
      // the gateway lets only its owner in, so the admin's Open stays disabled.
      const his = await call('POST', '/notebooks', { project: 'public', name: 'bob-nb', type: 'jupyter' }, 201, bobToken);
      await bob.page.getByRole('button', { name: 'Reload notebooks' }).click();
      await bob.page.locator('[data-testid="notebook-state-bob-nb"][data-state="running"]').waitFor({ timeout: READY_TIMEOUT });
      assert.equal(await bob.page.locator('[data-testid^="notebook-row-"]').count(), 1);
      assert.equal(await bob.page.getByTestId('notebook-open-bob-nb').isDisabled(), false);
      await page.goto(`${server.base}/notebooks`);
      await stateTag('bob-nb', 'running').waitFor({ timeout: READY_TIMEOUT });
      assert.equal(await page.locator('[data-testid="notebook-row-bob-nb"] td').nth(4).textContent(), 'bob');
      assert.equal(await page.getByTestId('notebook-open-bob-nb').isDisabled(), true, "the admin cannot open bob's notebook");
      assert.equal(await page.getByTestId(`notebook-open-${nb.name}`).isDisabled(), false);
      assert.equal((await fetch(his.url, { redirect: 'manual', headers: { Authorization: `Bearer ${adminToken}` } })).status, 404);
      await call('DELETE', `/notebooks/${his.id}`, undefined, 204, bobToken);
      await waitFor(() => processesMatching(`base_url=${his.path}`).length === 0, 20_000, "bob's server gone");
      assert.deepEqual(bob.errors, []);
    } finally {
      await bob.context.close();
    }

    const anon = await newPage(browser);
    try {
      anon.page.setDefaultTimeout(20_000);
      await anon.page.goto(nb.url);
      await anon.page.waitForURL(`${server.base}/login?next=**`);
      assert.equal(new URL(anon.page.url()).searchParams.get('next'), nb.url);
      await anon.page.getByTestId('login-username').fill('admin');
      await anon.page.getByTestId('login-password').fill(server.password);
      await anon.page.getByTestId('login-submit').click();
      await anon.page.waitForURL(`${nb.url}tree**`);
      await anon.page.locator('#notebook_list').waitFor();
      // The document of the first test is in the tree.
      await anon.page.locator('#notebook_list .item_link', { hasText: '.ipynb' }).first().waitFor();
      assert.deepEqual(anon.errors, []);
    } finally {
      await anon.context.close();
    }
  });

  test('the login page follows next only to a notebook on this host; signed in, it goes there at once', { timeout: 60_000 }, async () => {
    assert.ok(nb, 'the notebook of the first test');
    const anon = await newPage(browser);
    try {
      for (const bad of ['http://example.com/notebook/public/x/', `${server.base}/projects/public`, '//example.com/notebook/x/', 'javascript:alert(1)']) {
        await anon.page.goto(`${server.base}/login?next=${encodeURIComponent(bad)}`);
        await anon.page.getByTestId('login-username').fill('admin');
        await anon.page.getByTestId('login-password').fill(server.password);
        await anon.page.getByTestId('login-submit').click();
        await anon.page.waitForURL(`${server.base}/projects`);
        await anon.page.getByTestId('logout').click();
        await anon.page.waitForURL(`${server.base}/login`);
      }
    } finally {
      await anon.context.close();
    }
    // Already signed in: straight to the notebook.
    await page.goto(`${server.base}/login?next=${encodeURIComponent(nb.url)}`);
    await page.waitForURL(`${nb.url}tree**`, { timeout: 20_000 });
    await page.locator('#notebook_list').waitFor({ timeout: 20_000 });
    await page.goto(`${server.base}/notebooks`);
    await page.getByTestId(`notebook-row-${nb.name}`).waitFor();

    // The UI on another name of this host (localhost): a next on 127.0.0.1 is not this
    // host, and Open points at localhost, where the session cookie was set.
    const local = server.base.replace('//127.0.0.1:', '//localhost:');
    const href = nb.url.replace('//127.0.0.1:', '//localhost:');
    assert.notEqual(local, server.base);
    const other = await newPage(browser);
    try {
      other.page.setDefaultTimeout(20_000);
      await other.page.goto(`${local}/login?next=${encodeURIComponent(nb.url)}`);
      await other.page.getByTestId('login-username').fill('admin');
      await other.page.getByTestId('login-password').fill(server.password);
      await other.page.getByTestId('login-submit').click();
      await other.page.waitForURL(`${local}/projects`);
      await other.page.goto(`${local}/notebooks`);
      await other.page.locator(`[data-testid="notebook-state-${nb.name}"][data-state="running"]`).waitFor();
      const open = other.page.getByTestId(`notebook-open-${nb.name}`);
      assert.equal(await open.getAttribute('href'), href);
      const [tab] = await Promise.all([other.context.waitForEvent('page'), open.click()]);
      await tab.waitForURL(`${href}tree**`);
      await tab.locator('#notebook_list').waitFor();
      assert.deepEqual(other.errors, []);
    } finally {
      await other.context.close();
    }
  });

  test("the form shows the server's error for a bad name and creates nothing", { timeout: 60_000 }, async () => {
    const expected = await apiCall(server.base, adminToken, 'POST', '/notebooks', { project: 'public', name: 'Bad_Name', type: 'jupyter' });
    assert.equal(expected.status, 400);
    assert.match(expected.body.error.message, /^name: /);

    await page.goto(`${server.base}/notebooks`);
    await page.getByTestId('new-notebook').click();
    await page.getByTestId('notebook-form-name').fill('Bad_Name');
    await page.getByTestId('notebook-form-submit').click();
    const err = page.getByTestId('notebook-form-error');
    await err.waitFor();
    assert.equal((await err.textContent()).trim(), expected.body.error.message);
    assert.equal(await page.getByTestId('notebook-form-name').inputValue(), 'Bad_Name', 'the form stays open with the text');
    const list = await call('GET', '/notebooks');
    assert.ok(!list.items.some((n) => n.name.toLowerCase() === 'bad_name' || n.name === 'Bad_Name'), JSON.stringify(list.items));
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('notebook-form-name').waitFor({ state: 'detached' });
  });

  test('Stop, Start, Reset and Delete from the list; deleting ends the server and its kernel', { timeout: 180_000 }, async () => {
    assert.ok(nb, 'the notebook of the first test');
    const name = nb.name;
    await page.goto(`${server.base}/notebooks`);
    await waitOrExplain(stateTag(name, 'running'));

    await page.getByTestId(`notebook-stop-${name}`).click();
    await waitOrExplain(stateTag(name, 'stopped'), 10_000);
    let now = await call('GET', `/notebooks/${nb.id}`);
    assert.equal(now.desired, 'stopped');
    assert.equal(await page.getByTestId(`notebook-reason-${name}`).textContent(), now.reason);
    assert.match(now.reason, /stopped by admin/);
    assert.equal(await page.getByTestId(`notebook-open-${name}`).isDisabled(), true, 'Open is disabled while stopped');
    await waitFor(() => processesMatching(`base_url=${nb.path}`).length === 0, 20_000, 'the stopped server gone');
    if (kernelId) await waitFor(() => processesMatching(`kernel-${kernelId}`).length === 0, 20_000, 'its kernel gone');

    await page.getByTestId(`notebook-start-${name}`).click();
    await waitOrExplain(stateTag(name, 'running'));
    now = await call('GET', `/notebooks/${nb.id}`);
    assert.equal(now.desired, 'running');
    const before = now.generation;
    assert.ok(before > nb.generation, `start made a new generation (${nb.generation} -> ${before})`);
    assert.equal(await page.getByTestId(`notebook-open-${name}`).isDisabled(), false);

    await page.getByTestId(`notebook-reset-${name}`).click();
    await waitFor(async () => (await call('GET', `/notebooks/${nb.id}`)).generation > before, 10_000, 'a new generation');
    await waitOrExplain(stateTag(name, 'running'));
    now = await call('GET', `/notebooks/${nb.id}`);
    assert.equal(now.state, 'running');
    assert.equal(now.server?.generation, now.generation, JSON.stringify(now.server));
    assert.equal(processesMatching(`base_url=${nb.path}`).filter((l) => l.includes('python3')).length, 1, 'one server after the reset');

    await page.getByTestId(`notebook-delete-${name}`).click();
    await page.getByTestId(`notebook-delete-confirm-${name}`).click();
    await page.getByTestId(`notebook-row-${name}`).waitFor({ state: 'detached' });
    await call('GET', `/notebooks/${nb.id}`, undefined, 404);
    await waitFor(() => processesMatching(`base_url=${nb.path}`).length === 0, 20_000, 'the deleted notebook server gone');
    assert.deepEqual(processesMatching(`${server.dataDir}/process/`), [], 'no workload of this server is left');
    // The gateway no longer routes to it.
    const gone = await fetch(nb.url, { redirect: 'manual', headers: { Authorization: `Bearer ${adminToken}` } });
    assert.equal(gone.status, 404);
    assert.deepEqual(errors, []);
  });
});

// Projects, members and the expand editor in the web UI against the real server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiCall, apiLogin, launchBrowser, newPage, pickSelect, startServer, uiLogin } from './helpers.mjs';

const PROJECT = 'team-web';

describe('projects', () => {
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
    const bob = await apiCall(server.base, adminToken, 'POST', '/users', {
      username: 'bob',
      password: 'bob-secret-1',
      email: 'bob@example.com',
    });
    assert.equal(bob.status, 201, JSON.stringify(bob.body));
    ({ context, page, errors } = await newPage(browser));
    await uiLogin(page, server.base, 'admin', server.password);
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  const get = (p) => apiCall(server.base, adminToken, 'GET', p);

  test('create a project through the UI; it shows in the list', async () => {
    assert.equal((await get(`/projects/${PROJECT}`)).status, 404, 'not there before');

    await page.goto(`${server.base}/projects`);
    await page.getByTestId('project-row-public').waitFor();
    await page.getByTestId('new-project').click();
    await page.getByTestId('new-project-name').fill(PROJECT);
    await page.getByTestId('new-project-description').fill('Made by the browser test');
    await page.getByTestId('new-project-submit').click();

    const row = page.getByTestId(`project-row-${PROJECT}`);
    await row.waitFor();
    const text = await row.textContent();
    assert.match(text, /Made by the browser test/);
    assert.match(text, /creator/, 'the caller is the creator');
    assert.match(text, /admin/, 'created by admin');

    const saved = await get(`/projects/${PROJECT}`);
    assert.equal(saved.status, 200);
    assert.equal(saved.body.description, 'Made by the browser test');
    assert.equal(saved.body.created_by, 'admin');
  });

  test('creating a project with a taken name shows the server error', async () => {
    await page.goto(`${server.base}/projects`);
    await page.getByTestId('project-row-public').waitFor();
    await page.getByTestId('new-project').click();
    // The modal mounts its form as it opens: fill it once it is there (a loaded
    // machine once lost the typed name to a form that registered late).
    await page.getByTestId('new-project-form').waitFor();
    await page.getByTestId('new-project-name').fill('public');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="new-project-name"]')?.value === 'public');
    await page.getByTestId('new-project-submit').click();
    const alert = page.getByTestId('new-project-error');
    await alert.waitFor();
    const expected = await apiCall(server.base, adminToken, 'POST', '/projects', { name: 'public' });
    assert.equal(expected.status, 409);
    assert.equal((await alert.textContent()).trim(), expected.body.error.message);
    await page.keyboard.press('Escape');
  });

  test('add a member, change their role, remove them', async () => {
    await page.goto(`${server.base}/projects/${PROJECT}`);
    await page.getByTestId('members-table').waitFor();
    await page.getByTestId('member-row-admin').waitFor();
    assert.equal(await page.getByTestId('member-row-bob').count(), 0);

    await page.getByTestId('add-member-username').fill('bob');
    await pickSelect(page, 'add-member-role', 'ops');
    await page.getByTestId('add-member-submit').click();

    const row = page.getByTestId('member-row-bob');
    await row.waitFor();
    assert.match(await row.textContent(), /ops/);
    let members = await get(`/projects/${PROJECT}/members`);
    assert.deepEqual(
      members.body.items.map((m) => [m.username, m.role]),
      [
        ['admin', 'creator'],
        ['bob', 'ops'],
      ],
    );

    // Change the role in the table.
    await pickSelect(page, 'member-role-bob', 'dev');
    await page.waitForFunction(
      async ([base, token, project]) => {
        const r = await fetch(`${base}/api/v1/projects/${project}/members`, { headers: { Authorization: `Bearer ${token}` } });
        const b = await r.json();
        return b.items.some((m) => m.username === 'bob' && m.role === 'dev');
      },
      [server.base, adminToken, PROJECT],
      { polling: 200, timeout: 10_000 },
    );

    // Adding a user who does not exist shows the server's message.
    await page.getByTestId('add-member-username').fill('nobody-here');
    await page.getByTestId('add-member-submit').click();
    const alert = page.getByTestId('members-error');
    await alert.waitFor();
    const expected = await apiCall(server.base, adminToken, 'POST', `/projects/${PROJECT}/members`, {
      username: 'nobody-here',
      role: 'dev',
    });
    assert.ok(expected.status >= 400, `adding an unknown user fails (got ${expected.status})`);
    assert.equal((await alert.textContent()).trim(), expected.body.error.message);

    // Remove bob.
    await page.getByTestId('member-remove-bob').click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'Remove' }).click();
    await row.waitFor({ state: 'detached' });
    members = await get(`/projects/${PROJECT}/members`);
    assert.deepEqual(
      members.body.items.map((m) => m.username),
      ['admin'],
    );

    // Add bob back (default role dev) so the next tests have a second member.
    await page.getByTestId('add-member-username').fill('bob');
    await page.getByTestId('add-member-submit').click();
    await page.getByTestId('member-row-bob').waitFor();
    members = await get(`/projects/${PROJECT}/members`);
    assert.ok(members.body.items.some((m) => m.username === 'bob' && m.role === 'dev'));
  });

  test('a valid expand is saved; a bad one shows the server error and saves nothing', async () => {
    await page.goto(`${server.base}/projects/${PROJECT}`);
    const editor = page.getByTestId('expand-editor');
    await editor.waitFor();

    // A valid expand goes through.
    await editor.fill('{"cluster": "dev", "node_selector": "org=public"}');
    await page.getByTestId('expand-save').click();
    await page.waitForFunction(
      async ([base, token, project]) => {
        const r = await fetch(`${base}/api/v1/projects/${project}`, { headers: { Authorization: `Bearer ${token}` } });
        const b = await r.json();
        return b.expand && b.expand.cluster === 'dev';
      },
      [server.base, adminToken, PROJECT],
      { polling: 200, timeout: 10_000 },
    );
    const good = await get(`/projects/${PROJECT}`);
    assert.deepEqual(good.body.expand, { cluster: 'dev', node_selector: 'org=public' });
    assert.equal(await page.getByTestId('expand-error').count(), 0);

    // A bad one is refused with the server's message, shown verbatim near the editor.
    const bad = { volume_mount: 'x(nfs):/data' };
    await editor.fill(JSON.stringify(bad));
    await page.getByTestId('expand-save').click();
    const alert = page.getByTestId('expand-error');
    await alert.waitFor();
    const shown = (await alert.textContent()).trim();
    assert.match(shown, /volume_mount/);
    assert.match(shown, /nfs/);

    const direct = await apiCall(server.base, adminToken, 'PUT', `/projects/${PROJECT}`, { expand: bad });
    assert.equal(direct.status, 400);
    assert.equal(direct.body.error.code, 'invalid_argument');
    assert.equal(shown, direct.body.error.message);

    const after = await get(`/projects/${PROJECT}`);
    assert.deepEqual(after.body.expand, { cluster: 'dev', node_selector: 'org=public' }, 'nothing was saved');
    // The editor keeps the user's text so it can be fixed.
    assert.equal(JSON.parse(await editor.inputValue()).volume_mount, 'x(nfs):/data');
  });

  test('a project the server does not know shows its error', async () => {
    await page.goto(`${server.base}/projects/no-such-project`);
    const err = page.getByTestId('project-error');
    await err.waitFor();
    const expected = await get('/projects/no-such-project');
    assert.equal(expected.status, 404);
    assert.equal((await err.textContent()).trim(), expected.body.error.message);
  });

  test('a member who is not admin sees the project but cannot edit expand', async () => {
    const bobCtx = await newPage(browser);
    try {
      await uiLogin(bobCtx.page, server.base, 'bob', 'bob-secret-1');
      const row = bobCtx.page.getByTestId(`project-row-${PROJECT}`);
      await row.waitFor();
      assert.match(await row.textContent(), /dev/);
      assert.equal(await bobCtx.page.getByRole('menuitem', { name: /Users/ }).count(), 0, 'no Users page for non-admins');
      await bobCtx.page.getByTestId(`project-link-${PROJECT}`).click();
      const editor = bobCtx.page.getByTestId('expand-editor');
      await editor.waitFor();
      assert.equal(await editor.getAttribute('readonly'), '');
      assert.equal(await bobCtx.page.getByTestId('expand-save').count(), 0);
      assert.equal(await bobCtx.page.getByTestId('add-member-form').count(), 0);
      assert.deepEqual(bobCtx.errors, []);
    } finally {
      await bobCtx.context.close();
    }
  });

  test('no page errors in the admin session', () => {
    assert.deepEqual(errors, []);
  });
});

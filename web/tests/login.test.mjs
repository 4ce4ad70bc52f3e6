// Signing in and out of the web UI against the real server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiCall, apiLogin, launchBrowser, newPage, startServer, uiLogin } from './helpers.mjs';

const LIVE_AREAS = ['Projects', 'Notebooks', 'Images', 'Job templates', 'Pipelines', 'Runs', 'Schedules', 'Experiments', 'Models', 'Data sets', 'Services', 'Inference services'];
// Areas listed in the menu but not built yet (none at present; see areas.tsx).
const LATER_AREAS = [];

describe('login', () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  test('admin signs in; the layout shows the user and every area; logout revokes the token', async () => {
    const { context, page, errors } = await newPage(browser);
    try {
      // A client-side route served by the server's index.html fallback sends us to /login.
      await page.goto(`${server.base}/projects`);
      await page.waitForURL(`${server.base}/login`);

      await uiLogin(page, server.base, 'admin', server.password);
      assert.equal(await page.getByTestId('current-user').textContent(), 'admin');

      const token = await page.evaluate(() => localStorage.getItem('quader.token'));
      assert.ok(token, 'the token is kept in localStorage');
      const me = await apiCall(server.base, token, 'GET', '/me');
      assert.equal(me.status, 200);
      assert.equal(me.body.user.username, 'admin');

      // The projects list is there and shows the `public` project.
      await page.getByTestId('project-row-public').waitFor();

      // The built areas are usable; every later area is listed but disabled and tagged "soon".
      for (const label of LIVE_AREAS) {
        const item = page.getByRole('menuitem', { name: new RegExp(label) });
        assert.equal(await item.count(), 1, `menu item ${label}`);
        assert.notEqual(await item.getAttribute('aria-disabled'), 'true', `${label} is enabled`);
        assert.doesNotMatch(await item.textContent(), /soon/, `${label} is not tagged soon`);
      }
      for (const label of LATER_AREAS) {
        const item = page.getByRole('menuitem', { name: new RegExp(label.replace(/[()]/g, '\\$&')) });
        assert.equal(await item.count(), 1, `menu item ${label}`);
        assert.equal(await item.getAttribute('aria-disabled'), 'true', `${label} is disabled`);
        assert.match(await item.textContent(), /soon/, `${label} is tagged soon`);
      }
      // Admins also get the Users page.
      await page.getByRole('menuitem', { name: /Users/ }).click();
      await page.waitForURL(`${server.base}/users`);
      await page.getByTestId('user-row-admin').waitFor();

      await page.getByTestId('logout').click();
      await page.waitForURL(`${server.base}/login`);
      assert.equal(await page.evaluate(() => localStorage.getItem('quader.token')), null);
      const after = await apiCall(server.base, token, 'GET', '/me');
      assert.equal(after.status, 401, 'logout revoked the token');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('a wrong password shows the server error on the login page', async () => {
    const { context, page } = await newPage(browser);
    try {
      const expected = await apiCall(server.base, null, 'POST', '/login', { username: 'admin', password: 'not-the-password' });
      assert.equal(expected.status, 401);
      assert.ok(expected.body?.error?.message, 'the server explains the 401');

      await page.goto(`${server.base}/login`);
      await page.getByTestId('login-username').fill('admin');
      await page.getByTestId('login-password').fill('not-the-password');
      await page.getByTestId('login-submit').click();
      const alert = page.getByTestId('login-error');
      await alert.waitFor();
      assert.equal((await alert.textContent()).trim(), expected.body.error.message);
      assert.equal(new URL(page.url()).pathname, '/login');
      assert.equal(await page.evaluate(() => localStorage.getItem('quader.token')), null);
      assert.equal(await page.getByTestId('current-user').count(), 0);
    } finally {
      await context.close();
    }
  });

  test('a 401 from the API drops a stale token and returns to the login page', async () => {
    const { context, page } = await newPage(browser);
    try {
      // A real token, revoked behind the UI's back.
      const token = await apiLogin(server.base, 'admin', server.password);
      assert.equal((await apiCall(server.base, token, 'POST', '/logout', {})).status, 200);
      await page.goto(`${server.base}/login`);
      await page.evaluate((t) => localStorage.setItem('quader.token', t), token);
      await page.goto(`${server.base}/projects`);
      await page.waitForURL(`${server.base}/login`);
      await page.getByTestId('login-form').waitFor();
      assert.equal(await page.evaluate(() => localStorage.getItem('quader.token')), null);
    } finally {
      await context.close();
    }
  });
});

// The administrators' Users page against the real server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiCall, apiLogin, launchBrowser, newPage, startServer, uiLogin } from './helpers.mjs';

describe('users', () => {
  let server;
  let browser;
  let adminToken;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    adminToken = await apiLogin(server.base, 'admin', server.password);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  test('an admin creates, deactivates and deletes a user', async () => {
    const { context, page, errors } = await newPage(browser);
    try {
      await uiLogin(page, server.base, 'admin', server.password);
      await page.goto(`${server.base}/users`);
      await page.getByTestId('user-row-admin').waitFor();

      await page.getByTestId('new-user').click();
      await page.getByTestId('new-user-username').fill('carol');
      await page.getByTestId('new-user-password').fill('carol-pass-1');
      await page.getByTestId('new-user-email').fill('carol@example.com');
      await page.getByTestId('new-user-admin').check();
      await page.getByTestId('new-user-submit').click();
      const row = page.getByTestId('user-row-carol');
      await row.waitFor();
      assert.match(await row.textContent(), /carol@example\.com/);

      const carol = await apiCall(server.base, adminToken, 'GET', '/users/carol');
      assert.equal(carol.status, 200);
      assert.equal(carol.body.email, 'carol@example.com');
      assert.equal(carol.body.admin, true);
      await apiLogin(server.base, 'carol', 'carol-pass-1'); // the password works

      // A taken name: the server's message is shown in the form.
      await page.getByTestId('new-user').click();
      await page.getByTestId('new-user-username').fill('carol');
      await page.getByTestId('new-user-password').fill('whatever-1');
      await page.getByTestId('new-user-submit').click();
      const alert = page.getByTestId('new-user-error');
      await alert.waitFor();
      const expected = await apiCall(server.base, adminToken, 'POST', '/users', { username: 'carol', password: 'whatever-1' });
      assert.equal(expected.status, 409);
      assert.equal((await alert.textContent()).trim(), expected.body.error.message);
      await page.keyboard.press('Escape');
      await alert.waitFor({ state: 'detached' });

      // Deactivate.
      await page.getByRole('switch', { name: 'Active: carol' }).click();
      await page.waitForFunction(
        async ([base, token]) => {
          const r = await fetch(`${base}/api/v1/users/carol`, { headers: { Authorization: `Bearer ${token}` } });
          return (await r.json()).active === false;
        },
        [server.base, adminToken],
        { polling: 200, timeout: 10_000 },
      );

      // Delete.
      await page.getByTestId('user-delete-carol').click();
      await page.locator('.ant-popconfirm').getByRole('button', { name: 'Delete' }).click();
      await row.waitFor({ state: 'detached' });
      assert.equal((await apiCall(server.base, adminToken, 'GET', '/users/carol')).status, 404);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});

// Data sets in the web UI against the real server (docs/datasets.md): a data set made
// here, files uploaded from the page (with progress) as its first version, a CSV
// previewed as a typed table with its row count, a file downloaded as uploaded; a run
// that reads the version shows on it as lineage, and a version made of the run's outputs
// links back to the run. A non-member sees nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiApply, apiCall, apiLogin, launchBrowser, newPage, pickSelect, startServer, uiLogin, waitFor } from './helpers.mjs';

const DOCS = `
kind: JobTemplate
name: shell
image: quader/base:bookworm
command: ["sh", "-c", "eval \\"$SCRIPT\\""]
---
kind: Pipeline
name: reader
tasks:
  - name: read
    template: shell
    datasets: [flowers]
    env:
      SCRIPT: "mkdir -p /outputs/few && head -3 /datasets/flowers/flowers.csv > /outputs/few/few.csv"
`;

describe('datasets', () => {
  let server;
  let browser;
  let adminToken;
  let context;
  let page;
  let errors;
  let dir;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    adminToken = await apiLogin(server.base, 'admin', server.password);
    ({ context, page, errors } = await newPage(browser));
    await uiLogin(page, server.base, 'admin', server.password);
    dir = await mkdtemp(join(tmpdir(), 'quader-datasets-'));
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

  test('make a data set, upload a version, preview it as a table, download a file, follow its lineage', async () => {
    let csv = 'length,width,kind,ok\n';
    for (let i = 0; i < 40; i++) csv += `${i}.5,${i},${i % 2 ? 'a' : 'b'},${i % 3 === 0}\n`;
    await writeFile(join(dir, 'flowers.csv'), csv);
    await writeFile(join(dir, 'notes.txt'), 'measured by hand\n');

    await page.goto(`${server.base}/datasets`);
    await page.getByTestId('dataset-new').click();
    await pickSelect(page, 'dataset-project', 'public');
    await page.getByTestId('dataset-name').fill('flowers');
    await page.getByTestId('dataset-description').fill('measured flowers');
    await page.getByTestId('dataset-create-submit').click();
    await page.getByTestId('dataset-title').waitFor();
    assert.equal(await page.getByTestId('dataset-title').textContent(), 'flowers');

    await page.getByTestId('dataset-files').setInputFiles([join(dir, 'flowers.csv'), join(dir, 'notes.txt')]);
    await page.getByTestId('dataset-version-description').fill('first measurements');
    await page.getByTestId('dataset-upload').click();
    await page.getByTestId('dataset-version-row-1').waitFor();
    const d = await call('GET', '/datasets/flowers');
    assert.equal(d.latest_version, 1);
    assert.deepEqual(d.version_list[0].files.map((f) => f.path).sort(), ['flowers.csv', 'notes.txt']);
    assert.equal(d.version_list[0].description, 'first measurements');

    // The preview: typed columns and the row count, as the server read the file.
    await page.getByTestId('dataset-version-row-1').locator('.ant-table-row-expand-icon').click();
    await page.getByTestId('dataset-preview-1-flowers.csv').click();
    await page.getByTestId('dataset-preview-table').waitFor();
    assert.equal(await page.getByTestId('dataset-preview-rows').textContent(), '40 rows · 4 columns');
    assert.match(await page.getByTestId('dataset-column-length').first().textContent(), /length\s*number/);
    assert.match(await page.getByTestId('dataset-column-width').first().textContent(), /width\s*integer/);
    assert.match(await page.getByTestId('dataset-column-ok').first().textContent(), /ok\s*boolean/);
    await page.locator('.ant-modal-close:visible').click();
    await page.getByTestId('dataset-preview').waitFor({ state: 'hidden' });
    await page.getByTestId('dataset-preview-1-notes.txt').click();
    await waitFor(async () => (await page.getByTestId('dataset-preview-text').textContent()).includes('measured by hand'), 10_000, 'the text preview');
    await page.locator('.ant-modal-close:visible').click();
    await page.getByTestId('dataset-preview').waitFor({ state: 'hidden' });

    const [saved] = await Promise.all([page.waitForEvent('download'), page.getByTestId('dataset-file-1-flowers.csv').click()]);
    assert.equal(saved.suggestedFilename(), 'flowers.csv');
    assert.equal(await readFile(await saved.path(), 'utf8'), csv);

    // A run reads it (lineage on the version), and what the run wrote becomes version 2.
    const applied = await apiApply(server.base, adminToken, DOCS);
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    const run = await call('POST', '/pipelines/reader/run', {}, 201);
    await waitFor(async () => (await call('GET', `/runs/${run.id}`)).state === 'succeeded', 60_000, 'the run to succeed');
    await call('POST', `/datasets/${d.id}/versions`, { run: run.id, task: 'read', path: 'few' }, 201);
    await page.reload();
    await page.getByTestId('dataset-version-row-2').waitFor();
    await waitFor(async () => (await page.getByTestId('dataset-reads-1').textContent()).includes(`run ${run.id} / read`), 10_000, 'the read on v1');
    assert.match(await page.getByTestId('dataset-source-2').textContent(), new RegExp(`run ${run.id} · reader / read`));
    await page.getByTestId('dataset-source-2').click();
    await page.waitForURL(new RegExp(`/runs/${run.id}\\?task=read$`));
    assert.deepEqual(errors, []);
  });

  test('a user of another project sees none of its data sets', async () => {
    await call('POST', '/projects', { name: 'vault' }, 201);
    const secret = await call('POST', '/datasets', { project: 'vault', name: 'secret-data' }, 201);
    await call('POST', '/users', { username: 'eve', password: 'password-eve' }, 201);
    const eve = await apiLogin(server.base, 'eve', 'password-eve');
    const listed = await call('GET', '/datasets', undefined, 200, eve);
    assert.deepEqual(listed.items.filter((d) => d.name === 'secret-data'), []);
    const { context: c2, page: p2, errors: e2 } = await newPage(browser);
    try {
      await uiLogin(p2, server.base, 'eve', 'password-eve');
      await p2.goto(`${server.base}/datasets`);
      await p2.getByTestId('datasets-table').waitFor();
      assert.equal(await p2.getByTestId('dataset-row-secret-data').count(), 0);
      await p2.goto(`${server.base}/datasets/${secret.id}`);
      await p2.getByTestId('dataset-error').waitFor();
      assert.match(await p2.getByTestId('dataset-error').textContent(), /not found/);
      assert.deepEqual(e2, []);
    } finally {
      await c2.close();
    }
  });
});

// The model registry in the web UI against the real server (docs/models.md): a run's
// task makes two versions; the Models list shows the model; its page shows the versions
// side by side with each metric a column, changes a stage, links a version to the run's
// task that made it, and downloads a file as registered; a version is deployed, a service
// switched to another and rolled back. A non-member sees nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { apiApply, apiCall, apiLogin, launchBrowser, newPage, startServer, uiLogin, waitFor } from './helpers.mjs';

const DOCS = `
kind: JobTemplate
name: shell
image: quader/base:bookworm
command: ["sh", "-c", "eval \\"$SCRIPT\\""]
---
kind: Pipeline
name: trainer
tasks:
  - name: fit
    template: shell
    env:
      SCRIPT: "mkdir -p /outputs/model && printf 'weights-one' > /outputs/model/model.bin && printf '{}' > /outputs/model/meta.json"
`;

describe('models', () => {
  let server;
  let browser;
  let adminToken;
  let context;
  let page;
  let errors;
  let runId;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    adminToken = await apiLogin(server.base, 'admin', server.password);
    const applied = await apiApply(server.base, adminToken, DOCS);
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    const run = await apiCall(server.base, adminToken, 'POST', '/pipelines/trainer/run', {});
    assert.equal(run.status, 201, JSON.stringify(run.body));
    runId = run.body.id;
    await waitFor(async () => (await apiCall(server.base, adminToken, 'GET', `/runs/${runId}`)).body.state === 'succeeded', 60_000, 'the run to succeed');
    ({ context, page, errors } = await newPage(browser));
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

  test('versions side by side with their metrics, a stage changed, the run that made one, a file downloaded', async () => {
    const model = await call('POST', '/models', { name: 'digits', description: 'handwritten digits' }, 201);
    await call('POST', `/models/${model.id}/versions`, { run: runId, task: 'fit', path: 'model', framework: 'sklearn', metrics: { accuracy: 0.91, f1: 0.9 } }, 201);
    await call('POST', `/models/${model.id}/versions`, { run: runId, task: 'fit', path: 'model/model.bin', framework: 'sklearn', metrics: { accuracy: 0.95 }, params: { C: 2 } }, 201);

    await page.goto(`${server.base}/models`);
    await page.getByTestId('model-row-digits').waitFor();
    assert.match(await page.getByTestId('model-row-digits').textContent(), /public.*2.*v2/);
    await page.getByTestId('model-link-digits').click();
    await page.waitForURL(new RegExp(`/models/${model.id}$`));
    assert.equal(await page.getByTestId('model-title').textContent(), 'digits');

    // Each metric is a column: v1 has both, v2 only accuracy.
    await page.getByTestId('version-row-2').waitFor();
    assert.equal(await page.getByTestId('metric-1-accuracy').textContent(), '0.91');
    assert.equal(await page.getByTestId('metric-2-accuracy').textContent(), '0.95');
    assert.equal(await page.getByTestId('metric-1-f1').textContent(), '0.9');
    assert.equal(await page.getByTestId('metric-2-f1').textContent(), '—');

    // A stage changed here is the server's.
    await page.getByTestId('stage-select-2').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option[title="production"]').click();
    await page.locator('[data-testid="version-stage-2"][data-stage="production"]').waitFor();
    assert.equal((await call('GET', `/models/${model.id}/versions/2`)).stage, 'production');

    // A file downloads as it was registered.
    await page.getByTestId('version-row-1').locator('.ant-table-row-expand-icon').click();
    const [saved] = await Promise.all([page.waitForEvent('download'), page.getByTestId('version-file-1-model.bin').click()]);
    assert.equal(saved.suggestedFilename(), 'model.bin');
    assert.equal(await readFile(await saved.path(), 'utf8'), 'weights-one');

    // Lineage: the run's task that made it.
    await page.getByTestId('version-source-1').click();
    await page.waitForURL(new RegExp(`/runs/${runId}\\?task=fit$`));
    await page.getByTestId('task-view').waitFor();
    assert.deepEqual(errors, []);
  });

  test('deploy a version as a new inference service, switch it to another version and roll it back', async () => {
    const model = await call('POST', '/models', { name: 'shipped' }, 201);
    await call('POST', `/models/${model.id}/versions`, { run: runId, task: 'fit', path: 'model', framework: 'sklearn' }, 201);
    await call('POST', `/models/${model.id}/versions`, { run: runId, task: 'fit', path: 'model', framework: 'sklearn' }, 201);
    await page.goto(`${server.base}/models/${model.id}`);
    await page.getByTestId('version-row-2').waitFor();
    const deployTo = async (version, service) => {
      await page.getByTestId(`version-deploy-${version}`).click();
      if (service) {
        await page.getByTestId('deploy-target').click();
        await page.locator(`.ant-select-dropdown:visible .ant-select-item-option[title^="${service}"]`).click();
      }
      await page.getByTestId('deploy-submit').click();
      await waitFor(async () => (await page.getByTestId(`version-served-${version}`).textContent()).includes(service ?? 'serving-shipped-'),
        10_000, `version ${version} served`);
    };
    // v1 as a new inference service, named by the rule.
    await deployTo(1);
    const svc = (await call('GET', '/inference-services/serving-shipped-1'));
    assert.equal(svc.model_ref, 'shipped@1');
    assert.equal(svc.model_path, '/models/shipped/1');
    // Switched to v2: the same service, a new generation.
    await deployTo(2, 'serving-shipped-1');
    let now = await call('GET', '/inference-services/serving-shipped-1');
    assert.equal(now.model_ref, 'shipped@2');
    assert.equal(now.generation, svc.generation + 1);
    assert.equal(await page.getByTestId('version-served-1').locator('.ant-tag').count(), 0, 'v1 serves nowhere now');
    // The rollback.
    await deployTo(1, 'serving-shipped-1');
    now = await call('GET', '/inference-services/serving-shipped-1');
    assert.equal(now.model_ref, 'shipped@1');
    // The service's page says which version it serves.
    await page.getByTestId('version-served-1').locator('a').first().click();
    await page.getByTestId('service-model-ref').waitFor();
    assert.equal(await page.getByTestId('service-model-ref').textContent(), 'shipped@1');
    await call('DELETE', `/inference-services/${now.id}`, undefined, 204);
    assert.deepEqual(errors, []);
  });

  test('a user of another project sees none of its models', async () => {
    await call('POST', '/projects', { name: 'vault' }, 201);
    await call('POST', '/models', { project: 'vault', name: 'secret-model' }, 201);
    await call('POST', '/users', { username: 'eve', password: 'password-eve' }, 201);
    const eve = await apiLogin(server.base, 'eve', 'password-eve');
    const listed = await call('GET', '/models', undefined, 200, eve);
    assert.deepEqual(listed.items.filter((m) => m.name === 'secret-model'), []);
    const { context: c2, page: p2, errors: e2 } = await newPage(browser);
    try {
      await uiLogin(p2, server.base, 'eve', 'password-eve');
      await p2.goto(`${server.base}/models`);
      await p2.getByTestId('models-table').waitFor();
      assert.equal(await p2.getByTestId('model-row-secret-model').count(), 0);
      const id = (await call('GET', '/models/secret-model?project=vault')).id;
      await p2.goto(`${server.base}/models/${id}`);
      await p2.getByTestId('model-error').waitFor();
      assert.match(await p2.getByTestId('model-error').textContent(), /not found/);
      assert.deepEqual(e2, []);
    } finally {
      await c2.close();
    }
  });
});

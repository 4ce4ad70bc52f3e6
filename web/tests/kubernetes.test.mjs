// The "Kubernetes" drawer of the Services, Inference services and Notebooks lists against
// the real server (process runtime): it shows exactly the YAML of
// GET /{services|inference-services|notebooks}/{id}/manifests — the Deployment and the
// Service named after the object —, "Istio VirtualService" adds the VirtualService
// (services only), a namespace typed in goes into every object, a bad namespace shows the
// server's message instead of YAML, Copy puts the YAML on the clipboard, and the note names
// the `quader render` command that prints the same.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiCall, apiLogin, deleteNotebooks, launchBrowser, newPage, startServer, uiLogin, waitFor,
} from './helpers.mjs';


describe('kubernetes manifests drawer', () => {
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
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
    await page.setViewportSize({ width: 1600, height: 1000 });
    await uiLogin(page, server.base, 'admin', server.password);
  });

  after(async () => {
    // A notebook's server is a workload of its own: delete the notebooks so that the
    // controller stops them before the server goes.
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

  const drawer = () => page.getByTestId('manifests-drawer');
  const yamlBox = () => page.getByTestId('manifests-yaml');

  /** Waits until the drawer shows exactly `expected` (and is not loading). */
  const waitForYaml = async (expected, what) => {
    try {
      await waitFor(
        async () =>
          (await yamlBox().count()) === 1 &&
          (await yamlBox().getAttribute('data-loading')) === 'false' &&
          (await yamlBox().textContent()) === expected,
        10_000,
        what,
      );
    } catch (e) {
      const shown = (await yamlBox().count()) ? await yamlBox().textContent() : '(no YAML shown)';
      throw new Error(`${e.message}\n--- shown ---\n${shown}\n--- expected ---\n${expected}`);
    }
  };

  /** The object kinds of a multi-document YAML text, in order. */
  const kinds = (yaml) => [...yaml.matchAll(/^kind: (\S+)$/gm)].map((m) => m[1]);

  /**
   * The checks every drawer gets: the plain manifests, then (services) with Istio, then in
   * namespace "ml", then a bad namespace's error, then the namespace cleared again.
   */
  const exercise = async ({ coll, id, name, project, renderKind, istio }) => {
    await drawer().waitFor();
    assert.equal((await page.locator('.ant-drawer-open .ant-drawer-title').textContent()).trim(), `Kubernetes manifests — ${name}`);

    const plain = await call('GET', `/${coll}/${id}/manifests`);
    await waitForYaml(plain.yaml, 'the manifests');
    const shown = await yamlBox().textContent();
    assert.match(shown, /^kind: Deployment$/m);
    assert.match(shown, /^kind: Service$/m);
    assert.ok(shown.includes(name), `${name} in the YAML`);
    assert.ok(!shown.includes('kind: VirtualService'), 'no VirtualService unless asked for');
    assert.deepEqual(kinds(shown), plain.manifests.map((m) => m.kind));
    assert.equal(await yamlBox().evaluate((el) => el.tagName), 'PRE');
    assert.match(await yamlBox().evaluate((el) => getComputedStyle(el).fontFamily), /monospace/);
    assert.equal(
      (await page.getByTestId('manifests-note').textContent()).trim(),
      `What the kubernetes runtime applies for it; quader render ${renderKind} ${name} --project ${project} prints the same.`,
    );
    assert.equal(await page.getByTestId('manifests-namespace').inputValue(), '', 'the server’s namespace by default');

    // Copy: the clipboard holds exactly the YAML.
    await page.evaluate(() => navigator.clipboard.writeText(''));
    await page.getByTestId('manifests-copy').click();
    await waitFor(async () => (await page.evaluate(() => navigator.clipboard.readText())) === plain.yaml, 5000, 'the YAML on the clipboard');

    let query = '';
    if (istio) {
      const [req] = await Promise.all([
        page.waitForRequest((r) => new URL(r.url()).pathname === `/api/v1/${coll}/${id}/manifests` && new URL(r.url()).searchParams.get('istio') === '1'),
        page.getByTestId('manifests-istio').check(),
      ]);
      assert.equal(new URL(req.url()).searchParams.get('namespace'), null);
      const withIstio = await call('GET', `/${coll}/${id}/manifests?istio=1`);
      assert.ok(withIstio.yaml.includes('kind: VirtualService'), withIstio.yaml);
      await waitForYaml(withIstio.yaml, 'the manifests with the VirtualService');
      assert.match(await yamlBox().textContent(), /^kind: VirtualService$/m);
      assert.match(await page.getByTestId('manifests-note').textContent(), / --istio prints the same\.$/);
      query = '&istio=1';
    } else {
      assert.equal(await page.getByTestId('manifests-istio').count(), 0, 'no Istio switch here');
    }

    // A namespace: every object is in it.
    await page.getByTestId('manifests-namespace').fill('ml');
    const inMl = await call('GET', `/${coll}/${id}/manifests?namespace=ml${query}`);
    await waitForYaml(inMl.yaml, 'the manifests in namespace ml');
    const mlText = await yamlBox().textContent();
    assert.match(mlText, /^ {2}namespace: ml$/m);
    assert.equal((mlText.match(/^ {2}namespace: ml$/gm) ?? []).length, inMl.manifests.length, 'every object is in ml');
    assert.ok(!/^ {2}namespace: (?!ml$)/m.test(mlText), 'no other namespace');
    assert.ok((await page.getByTestId('manifests-note').textContent()).includes(` -n ml`));

    // A bad namespace: the server's message, no YAML, nothing to copy.
    await page.getByTestId('manifests-namespace').fill('Bad_NS');
    const bad = await apiCall(server.base, adminToken, 'GET', `/${coll}/${id}/manifests?namespace=Bad_NS${query}`);
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    const alert = page.getByTestId('manifests-error');
    await alert.waitFor();
    assert.equal((await alert.textContent()).trim(), bad.body.error.message);
    assert.match(bad.body.error.message, /Bad_NS/);
    assert.equal(await yamlBox().count(), 0);
    assert.ok(await page.getByTestId('manifests-copy').isDisabled());

    // Cleared again: back to the server's namespace, the error gone.
    await page.getByTestId('manifests-namespace').fill('');
    await waitForYaml((await call('GET', `/${coll}/${id}/manifests${query ? '?istio=1' : ''}`)).yaml, 'the manifests again');
    assert.equal(await alert.count(), 0);

    // Closing it and opening it again starts afresh.
    await page.locator('.ant-drawer-open .ant-drawer-close').click();
    await waitFor(async () => (await page.locator('.ant-drawer-open').count()) === 0, 5000, 'the drawer to close');
  };

  test('a service: its Deployment and Service, with Istio, in a namespace, and a bad namespace refused', async () => {
    const svc = await call(
      'POST',
      '/services',
      { kind: 'Service', name: 'echo-k8s', project: 'public', image: 'quader/python:3.11', command: ['sleep', '300'], ports: [8080], replicas: 0 },
      201,
    );
    await page.goto(`${server.base}/services`);
    await page.locator('[data-testid="service-row-public/echo-k8s"]').waitFor();
    await page.getByTestId(`service-manifests-${svc.id}`).click();
    await exercise({ coll: 'services', id: svc.id, name: 'echo-k8s', project: 'public', renderKind: 'service', istio: true });

    // Opened again: the server's namespace and no Istio, as at first.
    await page.getByTestId(`service-manifests-${svc.id}`).click();
    await waitForYaml((await call('GET', `/services/${svc.id}/manifests`)).yaml, 'the plain manifests again');
    assert.equal(await page.getByTestId('manifests-namespace').inputValue(), '');
    assert.equal(await page.getByTestId('manifests-istio').isChecked(), false);
    await page.locator('.ant-drawer-open .ant-drawer-close').click();

    await call('DELETE', `/services/${svc.id}`, undefined, 204);
    assert.deepEqual(errors, []);
  });

  test('an inference service: the same drawer on its own list', async () => {
    const made = await call(
      'POST',
      '/inference-services',
      {
        kind: 'InferenceService', service_type: 'serving', model_name: 'iris', model_version: 'v1',
        image: 'quader/python:3.11', command: 'sleep 300', ports: [8080],
      },
      201,
    );
    await page.goto(`${server.base}/inference-services`);
    await page.locator(`[data-testid="service-row-public/${made.name}"]`).waitFor();
    await page.getByTestId(`service-manifests-${made.id}`).click();
    await exercise({ coll: 'inference-services', id: made.id, name: made.name, project: 'public', renderKind: 'inference-service', istio: true });
    await call('DELETE', `/inference-services/${made.id}`, undefined, 204);
    assert.deepEqual(errors, []);
  });

  test('a notebook: its Deployment and Service, no Istio switch, in a namespace, and a bad namespace refused', async () => {
    const nb = await call('POST', '/notebooks', { project: 'public', name: 'nb-k8s', type: 'jupyter' }, 201);
    // Its server need not run for its manifests.
    await call('POST', `/notebooks/${nb.id}/stop`, {});
    await page.goto(`${server.base}/notebooks`);
    await page.getByTestId('notebook-row-nb-k8s').waitFor();
    await page.getByTestId('notebook-manifests-nb-k8s').click();
    await exercise({ coll: 'notebooks', id: nb.id, name: 'nb-k8s', project: 'public', renderKind: 'notebook', istio: false });
    await call('DELETE', `/notebooks/${nb.id}`, undefined, 204);
    assert.deepEqual(errors, []);
  });
});

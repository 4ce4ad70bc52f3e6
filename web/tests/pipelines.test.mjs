// Job templates and the pipeline editor (DAG canvas) in the web UI against the real
// server (docs/pipelines.md): the template list and its generated parameter form; a new
// pipeline built on the canvas from a template (two tasks, an edge, a generated form
// field), saved, and seen again after a reload; a cycle drawn on the canvas is named by
// Validate and refused by Save; deleting the closing edge makes it valid again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiApply,
  apiCall,
  apiLogin,
  dragBetween,
  ECHO_TEMPLATE_YAML,
  launchBrowser,
  newPage,
  startServer,
  uiLogin,
  waitFor,
} from './helpers.mjs';

const PIPELINE = 'canvas-test';

describe('pipelines', () => {
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
    const r = await apiApply(server.base, adminToken, ECHO_TEMPLATE_YAML);
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

  const get = async (p) => {
    const r = await apiCall(server.base, adminToken, 'GET', p);
    assert.equal(r.status, 200, `GET ${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const savedPipeline = async () => (await get('/pipelines?project=public')).items.find((p) => p.name === PIPELINE);

  test('the template list and the form generated from a template schema', async () => {
    const item = page.getByRole('menuitem', { name: /Job templates/ });
    assert.notEqual(await item.getAttribute('aria-disabled'), 'true');
    await item.click();
    await page.waitForURL(`${server.base}/templates`);
    const row = page.getByTestId('template-row-public/echo-hello');
    await row.waitFor();
    const text = await row.textContent();
    assert.match(text, /quader\/python:3\.11/);
    assert.match(text, /Release/);
    assert.match(text, /Say hello from the task/);

    await page.getByTestId('template-link-public/echo-hello').click();
    await page.waitForURL(/\/templates\/\d+$/);
    assert.equal((await page.getByTestId('template-name').textContent()).trim(), 'echo-hello');
    // Group headings, labels, typed read-only fields with their defaults.
    const form = page.getByTestId('template-args');
    await form.getByTestId('args-group-Greeting').waitFor();
    await form.getByTestId('args-group-Tuning').waitFor();
    assert.match(await form.textContent(), /Message/);
    assert.match(await form.textContent(), /What the task says/);
    const count = form.getByTestId('arg---count');
    assert.equal(await count.inputValue(), '3');
    assert.equal(await count.isDisabled(), true, 'read-only');
    assert.match(await form.getByTestId('arg---mode').textContent(), /fast/);
    assert.equal(await form.getByTestId('arg---loud').getAttribute('role'), 'switch');
    assert.equal(await form.getByTestId('arg---message').getAttribute('placeholder'), 'say something');
    assert.deepEqual(errors, []);
  });

  test('build a pipeline on the canvas, save it, and see it again after a reload', async () => {
    assert.equal(await savedPipeline(), undefined, 'no pipeline before');

    await page.getByRole('menuitem', { name: /Pipelines/ }).click();
    await page.waitForURL(`${server.base}/pipelines`);
    await page.getByTestId('pipelines-table').waitFor();
    await page.getByTestId('new-pipeline').click();
    await page.getByTestId('new-pipeline-name').fill(PIPELINE);
    await page.getByTestId('new-pipeline-description').fill('made on the canvas');
    await page.getByTestId('new-pipeline-submit').click();
    await page.waitForURL(`${server.base}/pipelines/new`);
    await page.getByTestId('canvas-empty').waitFor();

    // Two tasks from the template: the second gets a unique name.
    await page.getByTestId('add-template-public/echo-hello').click();
    await page.getByTestId('task-node-echo-hello').waitFor();
    await page.getByTestId('add-template-public/echo-hello').click();
    await page.getByTestId('task-node-echo-hello-2').waitFor();

    // Connect: echo-hello → echo-hello-2 (the second depends on the first).
    await dragBetween(page, page.getByTestId('task-out-echo-hello'), page.getByTestId('task-in-echo-hello-2'));
    await page.getByTestId('edge-echo-hello->echo-hello-2').waitFor({ state: 'attached' });

    // The generated form of the selected task: fill the required parameter of both.
    for (const name of ['echo-hello', 'echo-hello-2']) {
      await page.getByTestId(`task-node-${name}`).click();
      const nameInput = page.getByTestId('task-name');
      await page.waitForFunction((n) => document.querySelector('[data-testid="task-name"]')?.value === n, name);
      assert.equal(await nameInput.inputValue(), name);
      await page.getByTestId('arg---message').fill(`from ${name}`);
    }
    // Other generated fields: the int and the enum show their defaults.
    assert.equal(await page.getByTestId('arg---count').inputValue(), '3');
    assert.match(await page.getByTestId('arg---mode').textContent(), /fast/);
    await page.getByTestId('arg---count').fill('5');
    // The data sets the task reads (mounted at /datasets/NAME).
    await page.getByTestId('task-datasets').fill('flowers@2, digits');

    await page.getByTestId('save-button').click();
    await page.waitForURL(/\/pipelines\/\d+$/);
    const id = Number(new URL(page.url()).pathname.split('/').pop());

    const saved = await savedPipeline();
    assert.ok(saved, 'saved on the server');
    assert.equal(saved.id, id);
    assert.equal(saved.description, 'made on the canvas');
    assert.deepEqual(saved.tasks.map((x) => x.name), ['echo-hello', 'echo-hello-2']);
    const [first, second] = saved.tasks;
    assert.equal(first.template, 'echo-hello');
    assert.deepEqual(first.depends_on ?? [], []);
    assert.deepEqual(second.depends_on, ['echo-hello']);
    assert.equal(first.args['--message'], 'from echo-hello');
    assert.equal(second.args['--message'], 'from echo-hello-2');
    assert.deepEqual(second.datasets, ['flowers@2', 'digits']);
    assert.equal(first.datasets, undefined);
    assert.equal(second.args['--count'], 5);

    // A reload shows the same DAG (positions come from this browser, the rest from the server).
    await page.reload();
    await page.getByTestId('task-node-echo-hello').waitFor();
    await page.getByTestId('task-node-echo-hello-2').waitFor();
    await page.getByTestId('edge-echo-hello->echo-hello-2').waitFor({ state: 'attached' });
    assert.equal(await page.locator('.react-flow__edge').count(), 1);
    assert.equal(await page.getByTestId('unsaved').count(), 0, 'nothing unsaved after a reload');
    await page.getByTestId('task-node-echo-hello-2').click();
    assert.equal(await page.getByTestId('arg---message').inputValue(), 'from echo-hello-2');
    assert.equal(await page.getByTestId('arg---count').inputValue(), '5');

    // The list shows it: tasks count, no schedule, no run yet.
    await page.goto(`${server.base}/pipelines`);
    const row = page.getByTestId(`pipeline-row-public/${PIPELINE}`);
    await row.waitFor();
    assert.match(await row.textContent(), /made on the canvas/);
    assert.deepEqual(errors, []);
  });

  test('Run with unsaved edits asks first: the saved version or save and run; leaving asks too', async () => {
    const created = await apiCall(server.base, adminToken, 'POST', '/pipelines', {
      name: 'asks-first', project: 'public', description: 'as saved',
      tasks: [{ name: 'only', template: 'echo-hello', args: { '--message': 'hi' } }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id;
    await page.goto(`${server.base}/pipelines/${id}`);
    await page.getByTestId('task-node-only').waitFor();
    await page.getByTestId('tab-pipeline').click();
    await page.getByTestId('pipeline-description').fill('edited, not saved');
    await page.getByTestId('unsaved').waitFor();

    // Run the saved version: the edit is neither saved nor run, and stays in the editor.
    await page.getByTestId('run-button').click();
    await page.getByTestId('run-saved-version').click();
    await page.waitForURL(/\/runs\/\d+$/);
    let runId = Number(new URL(page.url()).pathname.split('/').pop());
    let run = await get(`/runs/${runId}`);
    assert.equal((await get(`/pipelines/${id}`)).description, 'as saved');
    assert.equal(run.pipeline, 'asks-first');

    // Save and run: saved first.
    await page.goto(`${server.base}/pipelines/${id}`);
    await page.getByTestId('task-node-only').waitFor();
    await page.getByTestId('tab-pipeline').click();
    await page.getByTestId('pipeline-description').fill('edited and saved');
    await page.getByTestId('run-button').click();
    // Cancel: nothing happens, and the dialog goes (a click that lands while it
    // is still opening, on a loaded machine, is made again).
    await waitFor(async () => {
      if (await page.getByTestId('run-cancel').isVisible()) await page.getByTestId('run-cancel').click().catch(() => undefined);
      return (await page.getByTestId('run-cancel').count()) === 0 || !(await page.getByTestId('run-cancel').isVisible());
    }, 10_000, 'the run dialog to close');
    assert.equal((await get(`/pipelines/${id}`)).description, 'as saved');
    await page.getByTestId('run-button').click();
    await page.getByTestId('run-save-and-run').click();
    await page.waitForURL(/\/runs\/\d+$/);
    assert.equal((await get(`/pipelines/${id}`)).description, 'edited and saved');

    // Leaving with unsaved edits: the menu asks; dismissed, the editor stays.
    await page.goto(`${server.base}/pipelines/${id}`);
    await page.getByTestId('task-node-only').waitFor();
    await page.getByTestId('tab-pipeline').click();
    await page.getByTestId('pipeline-description').fill('edited again');
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.dismiss();
    });
    await page.getByRole('menuitem', { name: /Runs/ }).click();
    assert.match(asked, /unsaved changes/);
    assert.match(page.url(), new RegExp(`/pipelines/${id}$`));
    assert.equal(await page.getByTestId('pipeline-description').inputValue(), 'edited again');
    // Accepted, it goes; a saved editor does not ask.
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('menuitem', { name: /Runs/ }).click();
    await page.waitForURL(`${server.base}/runs`);
    await page.goto(`${server.base}/pipelines/${id}`);
    await page.getByTestId('task-node-only').waitFor();
    let unexpected = false;
    page.once('dialog', (d) => {
      unexpected = true;
      void d.accept();
    });
    await page.getByRole('menuitem', { name: /Runs/ }).click();
    await page.waitForURL(`${server.base}/runs`);
    assert.equal(unexpected, false, 'nothing to lose: no question');
    page.removeAllListeners('dialog');
    assert.deepEqual(errors, []);
  });

  test("a task's Debug run runs it alone, as saved", async () => {
    const created = await apiCall(server.base, adminToken, 'POST', '/pipelines', {
      name: 'debug-one', project: 'public',
      tasks: [
        { name: 'prep', template: 'echo-hello', args: { '--message': 'prep' } },
        { name: 'solo', template: 'echo-hello', depends_on: ['prep'], args: { '--message': 'alone' } },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await page.goto(`${server.base}/pipelines/${created.body.id}`);
    await page.getByTestId('task-node-solo').click();
    await page.getByTestId('debug-run-task').click();
    await page.waitForURL(/\/runs\/\d+$/);
    const run = await get(`/runs/${Number(new URL(page.url()).pathname.split('/').pop())}`);
    assert.equal(run.trigger, 'debug');
    assert.deepEqual(run.tasks.map((t) => t.name), ['solo']);
    assert.deepEqual(errors, []);
  });

  test("a task's Debug with a shell starts it alone, waiting, and opens a terminal in it", async () => {
    const created = await apiCall(server.base, adminToken, 'POST', '/pipelines', {
      name: 'debug-shell', project: 'public',
      tasks: [{ name: 'probe', template: 'echo-hello', args: { '--message': 'never printed' }, env: { MARK: 'task-env' } }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await page.goto(`${server.base}/pipelines/${created.body.id}`);
    await page.getByTestId('task-node-probe').click();
    await page.getByTestId('debug-shell-task').click();
    await page.waitForURL(/\/runs\/\d+\?task=probe&terminal=1$/);
    const id = Number(new URL(page.url()).pathname.split('/').pop());
    try {
      await page.locator('[data-testid="terminal-state"][data-state="open"]').waitFor({ timeout: 30_000 });
      const term = page.getByTestId('terminal');
      await term.click();
      await page.keyboard.type('echo $KFJ_TASK_NAME-$MARK-$((3*3))');
      await page.keyboard.press('Enter');
      await waitFor(async () => /probe-task-env-9/.test(await term.textContent()), 20_000, 'the debug shell to answer');
      const run = await get(`/runs/${id}`);
      assert.equal(run.trigger, 'debug');
      assert.equal(run.tasks[0].state, 'running', 'it waits instead of running its command');
    } finally {
      await apiCall(server.base, adminToken, 'POST', `/runs/${id}/stop`, {});
    }
    assert.deepEqual(errors, []);
  });

  test('the graph gets the room: at 1280x800 the canvas takes most of the width; the panels fold and open', async () => {
    const created = await apiCall(server.base, adminToken, 'POST', '/pipelines', {
      name: 'roomy', project: 'public', tasks: [{ name: 'one', template: 'echo-hello', args: { '--message': 'x' } }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await page.setViewportSize({ width: 1280, height: 800 });
    try {
      await page.goto(`${server.base}/pipelines/${created.body.id}`);
      await page.getByTestId('task-node-one').waitFor();
      let canvas = await page.getByTestId('pipeline-canvas').boundingBox();
      assert.ok(canvas.width >= 0.6 * 1280, `canvas ${canvas.width} px of 1280`);
      assert.ok(canvas.y + canvas.height <= 800 + 1, `the canvas fits the screen: ${JSON.stringify(canvas)}`);
      // Picking a task opens its settings; folding them gives the room back.
      await page.getByTestId('task-node-one').click();
      await page.getByTestId('task-form').waitFor();
      assert.ok(await page.getByTestId('side-panel').isVisible());
      await page.getByTestId('side-panel').getByTestId('toggle-side-panel').click();
      await page.getByTestId('side-panel').waitFor({ state: 'hidden' });
      canvas = await page.getByTestId('pipeline-canvas').boundingBox();
      assert.ok(canvas.width >= 0.6 * 1280);
      // The templates open from their strip, and the list is there to add from.
      await page.getByTestId('toggle-templates').click();
      await page.getByTestId('template-panel').waitFor();
      // Narrow: the canvas is still there.
      await page.setViewportSize({ width: 390, height: 800 });
      await page.goto(`${server.base}/pipelines/${created.body.id}`);
      await page.getByTestId('task-node-one').waitFor();
      canvas = await page.getByTestId('pipeline-canvas').boundingBox();
      assert.ok(canvas.width >= 200, `canvas ${canvas.width} px at 390`);
    } finally {
      await page.setViewportSize({ width: 1600, height: 1000 });
    }
    assert.deepEqual(errors, []);
  });

  test('an edge that skips a row goes around the task in between, on the canvas and on the run page', async () => {
    // a -> b -> c and a -> c: laid out in one column, the straight a -> c would cross b.
    const created = await apiCall(server.base, adminToken, 'POST', '/pipelines', {
      name: 'skipper', project: 'public', tasks: [
        { name: 'a', template: 'echo-hello', args: { '--message': 'a' } },
        { name: 'b', template: 'echo-hello', args: { '--message': 'b' }, depends_on: ['a'] },
        { name: 'c', template: 'echo-hello', args: { '--message': 'c' }, depends_on: ['a', 'b'] },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    // Points along an edge's drawn path, in page coordinates.
    const pathPoints = (path) => path.evaluate((el) => {
      const m = el.getScreenCTM();
      const n = el.getTotalLength();
      const out = [];
      for (let i = 0; i <= 60; i++) {
        const p = el.getPointAtLength((n * i) / 60);
        out.push({ x: m.a * p.x + m.c * p.y + m.e, y: m.b * p.x + m.d * p.y + m.f });
      }
      return out;
    });
    const inside = (p, box) => p.x > box.x && p.x < box.x + box.width && p.y > box.y && p.y < box.y + box.height;
    const checkAround = async (edgePath, between, ends) => {
      const box = await between.boundingBox();
      const points = await pathPoints(edgePath);
      const crossing = points.filter((p) => inside(p, box));
      assert.deepEqual(crossing, [], `the edge crosses the task in between ${JSON.stringify(box)}`);
      // It still joins its two tasks.
      const [from, to] = [await ends[0].boundingBox(), await ends[1].boundingBox()];
      assert.ok(Math.abs(points[0].y - (from.y + from.height)) < 12, `starts at the bottom of its source: ${points[0].y} vs ${from.y + from.height}`);
      assert.ok(Math.abs(points[points.length - 1].y - to.y) < 12, `ends at the top of its target: ${points[points.length - 1].y} vs ${to.y}`);
    };
    await page.goto(`${server.base}/pipelines/${created.body.id}`);
    await page.getByTestId('task-node-b').waitFor();
    const skip = page.getByTestId('edge-a->c').locator('path.react-flow__edge-path');
    await skip.waitFor({ state: 'attached' });
    // The straight line would have crossed b: the three sit in one column.
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => page.getByTestId(`task-node-${n}`).boundingBox()));
    assert.ok(Math.abs(a.x - b.x) < 1 && Math.abs(b.x - c.x) < 1, 'one column');
    await checkAround(skip, page.getByTestId('task-node-b'), [page.getByTestId('task-node-a'), page.getByTestId('task-node-c')]);

    // The run page draws the same way.
    const run = await apiCall(server.base, adminToken, 'POST', `/pipelines/${created.body.id}/run`, {});
    assert.equal(run.status, 201, JSON.stringify(run.body));
    await page.goto(`${server.base}/runs/${run.body.id}`);
    await page.getByTestId('run-task-b').waitFor();
    const runSkip = page.locator('.react-flow__edge[data-id="a->c"] path.react-flow__edge-path');
    await runSkip.waitFor({ state: 'attached' });
    await checkAround(runSkip, page.getByTestId('run-task-b'), [page.getByTestId('run-task-a'), page.getByTestId('run-task-c')]);
    assert.deepEqual(errors, []);
  });

  test('a job template is created and edited in the UI; the server names what is wrong and saves nothing', async () => {
    await page.goto(`${server.base}/templates`);
    await page.getByTestId('new-template').click();
    const text = page.getByTestId('template-editor-text');
    await text.waitFor();
    const doc = JSON.parse(await text.inputValue());
    assert.equal(doc.kind, 'JobTemplate');
    assert.ok(doc.args.Parameters['--message'], 'starts from a schema to edit');
    // A bad schema: the server's error names the field; nothing is created.
    doc.name = 'ui-made';
    doc.args.Parameters['--message'].type = 'colour';
    await text.fill(JSON.stringify(doc, null, 2));
    await page.getByTestId('template-editor-save').click();
    const error = page.getByTestId('template-editor-error');
    await error.waitFor();
    assert.match(await error.textContent(), /args\.Parameters\.--message\.type|colour/);
    assert.equal((await get('/templates?project=public')).items.filter((t) => t.name === 'ui-made').length, 0);
    // Fixed: created, and its page shows its parameter form.
    doc.args.Parameters['--message'].type = 'str';
    await text.fill(JSON.stringify(doc, null, 2));
    await page.getByTestId('template-editor-save').click();
    await page.waitForURL(/\/templates\/\d+$/);
    assert.equal((await page.getByTestId('template-name').textContent()).trim(), 'ui-made');
    // Edited: a new parameter, saved, shown at once and stored.
    await page.getByTestId('edit-template').click();
    const edit = page.getByTestId('template-editor-text');
    await edit.waitFor();
    const stored = JSON.parse(await edit.inputValue());
    assert.equal(stored.id, undefined, 'the server-set fields are not part of the document');
    stored.args.Parameters['--count'] = { type: 'int', default: 2 };
    stored.description = 'edited in the UI';
    await edit.fill(JSON.stringify(stored, null, 2));
    await page.getByTestId('template-editor-save').click();
    await page.getByTestId('template-editor-text').waitFor({ state: 'detached' });
    const after = (await get('/templates?project=public')).items.find((t) => t.name === 'ui-made');
    assert.equal(after.description, 'edited in the UI');
    assert.deepEqual(after.args.Parameters['--count'].type, 'int');
    // A rename is refused by name.
    await page.getByTestId('edit-template').click();
    const again = JSON.parse(await page.getByTestId('template-editor-text').inputValue());
    again.name = 'renamed';
    await page.getByTestId('template-editor-text').fill(JSON.stringify(again));
    await page.getByTestId('template-editor-save').click();
    assert.match(await page.getByTestId('template-editor-error').textContent(), /cannot be renamed/);
    await page.getByTestId('template-editor-cancel').click();
    assert.deepEqual(errors, []);
  });

  test('a cycle drawn on the canvas: Validate names it, Save refuses it', async () => {
    const before = await savedPipeline();
    assert.ok(before, 'the pipeline of the previous test');
    await page.goto(`${server.base}/pipelines/${before.id}`);
    await page.getByTestId('task-node-echo-hello-2').waitFor();

    // Valid as saved.
    await page.getByTestId('validate-button').click();
    await page.getByTestId('validation-ok').waitFor();

    // Connect back: echo-hello-2 → echo-hello.
    await dragBetween(page, page.getByTestId('task-out-echo-hello-2'), page.getByTestId('task-in-echo-hello'));
    await page.getByTestId('edge-echo-hello-2->echo-hello').waitFor({ state: 'attached' });
    await page.getByTestId('unsaved').waitFor();

    // What the server says about this document, verbatim.
    const doc = {
      name: PIPELINE,
      project: 'public',
      description: 'made on the canvas',
      tasks: [
        { name: 'echo-hello', template: 'echo-hello', depends_on: ['echo-hello-2'], args: { '--message': 'x' } },
        { name: 'echo-hello-2', template: 'echo-hello', depends_on: ['echo-hello'], args: { '--message': 'y' } },
      ],
    };
    const expected = await apiCall(server.base, adminToken, 'POST', '/pipelines/validate', doc);
    assert.equal(expected.status, 400, JSON.stringify(expected.body));
    assert.match(expected.body.error.message, /cycle/);

    await page.getByTestId('validate-button').click();
    const alert = page.getByTestId('validation-error');
    await alert.waitFor();
    const shown = (await alert.textContent()).trim();
    assert.match(shown, /cycle/);
    assert.match(shown, /echo-hello -> echo-hello-2|echo-hello-2 -> echo-hello/);
    assert.equal(shown, expected.body.error.message);

    // Save is refused the same way; nothing changes on the server.
    await page.getByTestId('save-button').click();
    await page.locator('[data-testid="validation-error"][data-source="save"]').waitFor();
    assert.match(await page.getByTestId('validation-error').textContent(), /cycle/);
    const after = await savedPipeline();
    assert.deepEqual(after.tasks.map((x) => x.depends_on ?? []), [[], ['echo-hello']]);
    assert.equal(after.updated_at, before.updated_at);

    // Select the closing edge and delete it: valid again, and nothing left to save.
    await page.getByTestId('edge-echo-hello-2->echo-hello').dispatchEvent('click');
    await page.locator('.react-flow__edge.selected').waitFor({ state: 'attached' });
    await page.keyboard.press('Delete');
    await page.getByTestId('edge-echo-hello-2->echo-hello').waitFor({ state: 'detached' });
    await page.getByTestId('validate-button').click();
    await page.getByTestId('validation-ok').waitFor();
    assert.equal(await page.getByTestId('unsaved').count(), 0);
    assert.deepEqual(errors, []);
  });
});

// Shared set-up for the browser tests: starts the real Quader server on free ports
// with a fresh data directory, launches Debian's Chromium through playwright-core,
// and offers small API helpers for test set-up and for checking what was saved.
//
// Environment:
//   QUADER_BIN      server binary (default <repo>/build/quader)
//   QUADER_WEB_DIR  built UI (default <repo>/web/dist; run `npm run build` first)
//   CHROMIUM        browser binary (default /usr/bin/chromium)

import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const STARTUP_DEADLINE_MS = 20_000;

/** Starts `quader server`; resolves once GET /healthz answers 200. */
export async function startServer() {
  const bin = process.env.QUADER_BIN ?? path.join(repoRoot, 'build', 'quader');
  const webDir = process.env.QUADER_WEB_DIR ?? path.join(repoRoot, 'web', 'dist');
  if (!existsSync(bin)) throw new Error(`server binary ${bin} not found: build it first (make build)`);
  if (!existsSync(path.join(webDir, 'index.html'))) {
    throw new Error(`${webDir}/index.html not found: build the UI first (cd web && npm run build)`);
  }

  const root = await mkdtemp(path.join(os.tmpdir(), 'quader-web-test-'));
  await chmod(root, 0o711); // workloads run as other uids and pass through it (docs/security.md)
  const dataDir = path.join(root, 'data');
  const logPath = path.join(root, 'server.log');
  const password = 'Adm-' + randomBytes(9).toString('base64url');
  const log = createWriteStream(logPath);
  let logText = '';

  const child = spawn(
    bin,
    ['server', '--data', dataDir, '--listen', '127.0.0.1:0', '--gateway-listen', '127.0.0.1:0', '--runtime', 'process', '--web-dir', webDir],
    {
      env: { ...process.env, QUADER_ADMIN_PASSWORD: password },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so that stop() reaches anything it started
    },
  );
  const collect = (chunk) => {
    log.write(chunk);
    if (logText.length < 200_000) logText += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });

  const server = {
    base: '',
    password,
    dataDir,
    root,
    child,
    logTail: () => logText.slice(-4000),
    async stop() {
      if (exited === null) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        const done = await Promise.race([exitPromise, sleep(5000).then(() => null)]);
        if (done === null) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
          await Promise.race([exitPromise, sleep(2000)]);
        }
      }
      log.end();
      if (!process.env.QUADER_KEEP_TEST_DATA) await rm(root, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  const fail = async (why) => {
    await server.stop().catch(() => undefined);
    throw new Error(`${why}\n--- server output ---\n${logText.slice(-4000)}`);
  };

  // 1. server.json tells which port it bound.
  for (;;) {
    if (exited) await fail(`quader server exited early (${JSON.stringify(exited)})`);
    if (Date.now() > deadline) await fail(`no ${dataDir}/server.json within ${STARTUP_DEADLINE_MS} ms`);
    try {
      const info = JSON.parse(await readFile(path.join(dataDir, 'server.json'), 'utf8'));
      if (typeof info.api === 'string' && info.api.startsWith('http')) {
        server.base = info.api.replace(/\/+$/, '');
        break;
      }
    } catch {
      /* not there yet, or half written */
    }
    await sleep(50);
  }
  // 2. /healthz says it is ready.
  for (;;) {
    if (exited) await fail(`quader server exited early (${JSON.stringify(exited)})`);
    if (Date.now() > deadline) await fail(`GET ${server.base}/healthz not 200 within ${STARTUP_DEADLINE_MS} ms`);
    try {
      const res = await fetch(`${server.base}/healthz`);
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  return server;
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Calls the API; resolves to {status, body} (body parsed as JSON when possible). */
export async function apiCall(base, token, method, p, body) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${base}/api/v1${p}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* keep the text */
  }
  return { status: res.status, body: parsed };
}

/** Logs in through the API and returns the token (fails the test otherwise). */
export async function apiLogin(base, username, password) {
  const r = await apiCall(base, null, 'POST', '/login', { username, password });
  if (r.status !== 200 || typeof r.body?.token !== 'string') {
    throw new Error(`login as ${username} failed: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return r.body.token;
}

/** Signs in through the login page and waits for the projects list. */
export async function uiLogin(page, base, username, password) {
  await page.goto(`${base}/login`);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.waitForURL(`${base}/projects`, { timeout: 10_000 });
  await page.getByTestId('current-user').filter({ hasText: username }).waitFor({ timeout: 10_000 });
}

/** Opens a fresh browser context + page; page errors are collected for assertions. */
export async function newPage(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return { context, page, errors };
}

/**
 * The usual set-up of a test file: a fresh server, the browser, the admin's API token
 * and a page signed in as admin (`errors` collects its page errors). `close()` ends
 * them all; call it from `after` even when the set-up failed half-way.
 */
export async function startAdminSession() {
  const session = { server: null, browser: null, adminToken: null, context: null, page: null, errors: [] };
  session.close = async () => {
    await session.context?.close().catch(() => undefined);
    await session.browser?.close().catch(() => undefined);
    await session.server?.stop();
  };
  try {
    session.server = await startServer();
    session.browser = await launchBrowser();
    session.adminToken = await apiLogin(session.server.base, 'admin', session.server.password);
    Object.assign(session, await newPage(session.browser));
    await uiLogin(session.page, session.server.base, 'admin', session.server.password);
  } catch (e) {
    await session.close().catch(() => undefined);
    throw e;
  }
  return session;
}

/** Picks an option of an antd <Select> found by its data-testid. */
export async function pickSelect(page, testId, option) {
  await page.getByTestId(testId).click();
  const item = page.locator(`.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option[title="${option}"]`);
  await item.click();
}

/** POSTs YAML documents to /api/v1/apply (as `quader apply` does); resolves to {status, body}. */
export async function apiApply(base, token, yamlText) {
  const res = await fetch(`${base}/api/v1/apply`, {
    method: 'POST',
    headers: { Accept: 'application/json', Authorization: `Bearer ${token}`, 'Content-Type': 'application/yaml' },
    body: yamlText,
  });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* keep the text */
  }
  return { status: res.status, body: parsed };
}

/** Waits until `fn` resolves to a truthy value (polling); returns it, or fails after `ms`. */
export async function waitFor(fn, ms = 20_000, what = 'condition') {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** Drags from the centre of one element to the centre of another with the mouse (e.g. connecting two handles). */
export async function dragBetween(page, from, to) {
  const a = await from.boundingBox();
  const b = await to.boundingBox();
  if (!a || !b) throw new Error('dragBetween: an element is not visible');
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(a.x + a.width / 2 + 5, a.y + a.height / 2 + 5, { steps: 2 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
  await page.mouse.up();
}

// Job templates for the pipeline tests. The process runtime runs host programs in a
// bubblewrap sandbox (the image is ignored). `sh -c SCRIPT --message VALUE …` gives the
// script $0=--message and $1=VALUE (a task's values follow the command as --flag value).
export const ECHO_TEMPLATE_YAML = `
kind: JobTemplate
name: echo-hello
project: public
image: quader/python:3.11
version: Release
description: Say hello from the task
command: ["sh", "-c", "echo hello from $KFJ_TASK_NAME; echo \\"message: $1\\"; sleep 1"]
resources: {cpu: 1, memory: 256M, gpu: 0}
args:
  Greeting:
    --message:
      type: str
      label: Message
      describe: What the task says
      placeholder: say something
      require: 1
  Tuning:
    --count:
      type: int
      label: Count
      default: 3
    --mode:
      type: enum
      label: Mode
      choice: [fast, slow]
      default: fast
    --loud:
      type: bool
      label: Loud
      default: false
`;

/** A task that runs until it is stopped (prints a line first). */
export const SLEEPER_TEMPLATE_YAML = `
kind: JobTemplate
name: sleeper
project: public
image: quader/python:3.11
description: Print a line, then sleep for a minute
command: ["sh", "-c", "echo sleeper started; sleep 60; echo sleeper woke up"]
args: {}
`;

/** The command lines of the processes whose command line contains `pattern` (none: []). */
export function processesMatching(pattern) {
  try {
    return execFileSync('pgrep', ['-a', '-f', pattern], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch (e) {
    if (e.status === 1) return []; // pgrep: nothing matched
    throw e;
  }
}

/**
 * Deletes every notebook and waits (20 s at most) until the process runtime's workloads of
 * `server` are gone: notebook servers are workloads of their own (they outlive a server that
 * is killed), so the controller must stop them before the server goes.
 */
export async function deleteNotebooks(server, token) {
  const list = await apiCall(server.base, token, 'GET', '/notebooks').catch(() => null);
  for (const n of list?.body?.items ?? []) await apiCall(server.base, token, 'DELETE', `/notebooks/${n.id}`).catch(() => null);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && processesMatching(`${server.dataDir}/process/`).length > 0) {
    await sleep(200);
  }
}

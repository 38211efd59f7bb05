// vitrine.js starts a real vitrine for a test: `bin/vitrine serve` on a
// free loopback port with a fresh data directory, and a token made with
// the CLI, as a user would.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const outDir = path.join(root, 'e2e', 'out');
const bin = process.env.VITRINE_BIN || path.join(root, 'bin', 'vitrine');

// freePort asks the kernel for a port nobody uses and gives it back.
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// startVitrine runs `vitrine serve` and resolves once /healthz answers.
// env adds VITRINE_* settings (VITRINE_CORS_ORIGINS for the examples).
export async function startVitrine(name, env = {}) {
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run make build first`);
  fs.mkdirSync(outDir, { recursive: true });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitrine-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = fs.openSync(path.join(outDir, `${name}.vitrine.log`), 'w');
  const proc = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    env: { ...process.env, ...env },
    stdio: ['ignore', log, log],
  });
  let exited = null;
  proc.on('exit', (code, signal) => { exited = { code, signal }; });

  // Wait for the server to answer (it migrates first), not for a fixed time.
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) throw new Error(`vitrine exited (${JSON.stringify(exited)}); see e2e/out/${name}.vitrine.log`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL'); // a live child would keep the test process from ending
      throw new Error(`vitrine did not answer /healthz within 20s; see e2e/out/${name}.vitrine.log`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  // createToken makes a token with the CLI, as an operator would.
  function createToken(user, scope = 'write') {
    return execFileSync(bin, ['token', 'create', '--user', user, '--scope', scope, '--data-dir', dataDir],
      { encoding: 'utf8' }).trim();
  }
  const token = createToken('e2e');

  // api calls the API from Node, to set up and to check what the browser did.
  async function api(method, p, body) {
    const init = { method, headers: { Authorization: `Bearer ${token}` } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(url + p, init);
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return data;
  }

  // until polls fn (an API check from Node) until it returns something
  // truthy, and returns that.
  async function until(what, fn, timeoutMs = 15_000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function stop() {
    if (!exited) {
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await done;
    }
    fs.closeSync(log);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  return { url, token, dataDir, api, until, createToken, stop };
}

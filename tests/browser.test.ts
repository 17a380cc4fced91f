// The package loads and runs in a browser: Debian's Chromium, driven by playwright-core,
// imports dist/index.js from a localhost server; the bundle fetches build/core.wasm.
import { describe, it, expect, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const root = join(__dirname, '..');
const have = existsSync(CHROMIUM);
if (!have) console.warn(`\n*** browser test SKIPPED: ${CHROMIUM} missing (apt-get install chromium) ***\n`);

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.map': 'application/json' };
let server: Server | undefined;

afterAll(() => server?.close());

/** Serve dist/, build/ and tests/browser/ from localhost, open `page` in Chromium, return its window.result. */
async function resultOf(pageName: string): Promise<unknown> {
  server = createServer(async (req, res) => {
    const path = req.url === '/' ? `/tests/browser/${pageName}` : decodeURIComponent(req.url!.split('?')[0]);
    const file = normalize(join(root, path));
    if (!file.startsWith(root) || !/^\/(dist|build|tests\/browser)\//.test(path)) { res.writeHead(404).end(); return; }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'wasmvisor-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, null, { timeout: 30_000 });
    return await page.evaluate(() => (window as unknown as { result: unknown }).result);
  } finally {
    await browser.close();
    server.close();
  }
}

describe('browser', () => {
  it.skipIf(!have)('runs a guest program in Chromium from the ESM bundle', async () => {
    expect(await resultOf('page.html')).toEqual({ exit: 1, a0: '5050', console: 'O' });
  });

  it.skipIf(!have)('runs two kvm VMs at once, each in its own Web Worker, through the KVM-shaped API', async () => {
    const vm = (data: number) => ({ first: 6, addr: '0x10000000', isWrite: true, data, second: 24, type: 1 });
    expect(await resultOf('kvm.html')).toEqual({ vms: [vm(7), vm(9)] });
  });
});

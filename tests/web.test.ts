// The browser front end (web/, npm run web) end to end in Debian's Chromium (playwright-core):
// the page and its worker are built with esbuild into dist/web, served by scripts/serve-web.mjs,
// and driven through the form; the terminal's text is read from xterm's buffer.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(__dirname, '..');
const LINUX = join(ROOT, 'build/guests/linux');
const haveChromium = existsSync(CHROMIUM);
const haveLinux = existsSync(join(LINUX, 'Image'));
const slow = process.env.WASMVISOR_SLOW === '1';

const chromiumNote = haveChromium ? '' : ` (skipped: ${CHROMIUM} missing; apt-get install chromium)`;
const linuxNote = chromiumNote || (haveLinux ? '' : ' (skipped: build/guests/linux/Image missing; run npm run guests:linux)');
const slowNote = linuxNote || (slow ? '' : ' (skipped: a second Linux boot; set WASMVISOR_SLOW=1)');
if (chromiumNote) console.warn(`\n*** web test${chromiumNote} ***\n`);

interface BuildWeb { buildWeb(o?: { outdir?: string; typecheck?: boolean }): Promise<string> }
interface ServeWeb { startServer(o: { port: number; root: string }): Promise<{ url: string; close(): Promise<void> }> }
const { buildWeb } = (await import('../scripts/build-web.mjs' as string)) as BuildWeb;
const { startServer } = (await import('../scripts/serve-web.mjs' as string)) as ServeWeb;

/** What web/main.ts puts on window for tests. */
interface Exposed { wasmvisor: { text(): string; state(): string; lastExit?: { reason: string; status: number; message?: string } } }

let server: Awaited<ReturnType<ServeWeb['startServer']>> | undefined;
let browser: BrowserContext | undefined;
const profile = mkdtempSync(join(tmpdir(), 'wasmvisor-chromium-'));

beforeAll(async () => {
  if (!haveChromium) return;
  if (!existsSync(join(ROOT, 'build/core.wasm'))) throw new Error('build/core.wasm is missing: run npm run build first');
  await buildWeb({ typecheck: false });
  server = await startServer({ port: 0, root: ROOT });
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(profile, { recursive: true, force: true });
});

/** A fresh page; errors it logs end up in the failure messages of waitForText. */
async function openPage(url = server!.url): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(url);
  return { page, errors };
}

const termText = (page: Page) => page.evaluate(() => (window as unknown as Exposed).wasmvisor.text());

/** Wait until the terminal shows `s`; on timeout fail with what the page shows. */
async function waitForText(page: Page, errors: string[], s: string, timeout: number): Promise<string> {
  try {
    await page.waitForFunction((s) => (window as unknown as Exposed).wasmvisor.text().includes(s), s, { timeout, polling: 200 });
  } catch (e) {
    const message = await page.locator('#message').textContent();
    const status = await page.locator('#status').textContent();
    throw new Error(`'${s}' did not appear: ${(e as Error).message.split('\n')[0]}\nstatus: ${status}\nmessage: ${message}\n` +
      `page errors: ${errors.join('; ') || 'none'}\nterminal:\n${(await termText(page)).trimEnd().slice(-3000)}`);
  }
  return termText(page);
}

const counter = async (page: Page, name: string) => Number(await page.locator(`#counter-${name}`).getAttribute('data-value'));

async function waitForExit(page: Page) {
  await page.waitForFunction(() => (window as unknown as Exposed).wasmvisor.lastExit !== undefined, null, { timeout: 30_000 });
  return page.evaluate(() => (window as unknown as Exposed).wasmvisor.lastExit!);
}

describe('web front end', () => {
  it.skipIf(!haveChromium)(`runs the bare-metal demo in a worker and shows its counters${chromiumNote}`, async () => {
    const { page, errors } = await openPage();
    try {
      // the machine types: native, paravirt and hw-assist run here; kvm (API only) and the others are listed disabled
      const types = await page.locator('#type option').evaluateAll((os) =>
        (os as HTMLOptionElement[]).map((o) => ({ value: o.value, disabled: o.disabled, title: o.title })));
      expect(types.find((t) => t.value === 'native')?.disabled).toBe(false);
      expect(types.find((t) => t.value === 'hw-assist')?.disabled).toBe(false);
      expect(types.find((t) => t.value === 'kvm')).toMatchObject({ disabled: true, title: expect.stringContaining('/dev/kvm') });

      await page.selectOption('#guest', 'bare');
      await page.click('#start');
      const text = await waitForText(page, errors, 'wasmvisor bare-metal demo: done, powering off', 30_000);
      expect(text).toContain('wasmvisor bare-metal demo: hello from S-mode');
      expect(await waitForExit(page)).toMatchObject({ reason: 'poweroff', status: 0 });
      expect(await counter(page, 'instret')).toBeGreaterThan(10_000_000);
      expect(await counter(page, 'sbiCalls')).toBeGreaterThanOrEqual(3);
      expect(await page.locator('#counter-instret').textContent()).toMatch(/^\d{1,3}(,\d{3})+$/);
      expect(await page.locator('#status').textContent()).toContain('powered off (status 0)');
      expect(await page.locator('#message').isHidden()).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it.skipIf(!haveChromium)(`shows why a machine cannot start${chromiumNote}`, async () => {
    /** Start with `memory` and return the message the page shows once the machine gave up. */
    const failure = async (url: string, memory: string) => {
      const { page } = await openPage(url);
      try {
        await page.selectOption('#guest', 'linux');
        await page.fill('#memory', memory);
        await page.click('#start');
        expect(await waitForExit(page)).toMatchObject({ reason: 'failed-to-start' });
        expect(await page.locator('#message').getAttribute('class')).toBe('error');
        expect(await page.locator('#start').isEnabled()).toBe(true);
        return await page.locator('#message').textContent();
      } finally {
        await page.close();
      }
    };
    if (haveLinux) // a ConfigError from createMachine: 32 MiB cannot hold the 36 MB kernel
      expect(await failure(server!.url, '32M')).toMatch(/configuration error: kernel does not fit: .*the machine has 32\.0 MiB/);
    // a server whose build/ has the core but no guests
    const root = mkdtempSync(join(tmpdir(), 'wasmvisor-web-'));
    mkdirSync(join(root, 'build'));
    copyFileSync(join(ROOT, 'build/core.wasm'), join(root, 'build/core.wasm'));
    await buildWeb({ outdir: join(root, 'dist/web'), typecheck: false });
    const bare = await startServer({ port: 0, root });
    try {
      expect(await failure(bare.url, '256M')).toMatch(/Linux guest files are missing .*run `npm run guests:linux`/);
    } finally {
      await bare.close();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it.skipIf(!haveChromium || !haveLinux)(`boots Linux with the disk and runs a command${linuxNote}`, async () => {
    const manifest = JSON.parse(readFileSync(join(LINUX, 'manifest.json'), 'utf8')) as { diskFiles: Record<string, string> };
    const { page, errors } = await openPage();
    try {
      await page.selectOption('#guest', 'linux');
      await page.fill('#append', 'console=ttyS0 wvrun="uname -a; sha256sum /mnt/hello.txt"');
      expect(await page.locator('#disk').isChecked()).toBe(true);
      const t0 = performance.now();
      await page.click('#start');
      expect(await page.locator('#memory').isDisabled()).toBe(true); // the form is locked while the machine lives
      const text = await waitForText(page, errors, 'wasmvisor: run exit 0', 240_000);
      const seconds = (performance.now() - t0) / 1000;
      expect(text).toMatch(/^Linux \S+ .*riscv64.*$/m);
      expect(text).toMatch(new RegExp(`^${manifest.diskFiles['hello.txt']}  /mnt/hello.txt$`, 'm'));
      expect(await waitForExit(page)).toMatchObject({ reason: 'poweroff', status: 0 });
      console.log(`Linux in Chromium: Start to 'wasmvisor: run exit 0' in ${seconds.toFixed(1)} s ` +
        `(${(await counter(page, 'instret') / 1e6).toFixed(0)} M instructions, ${(await counter(page, 'mips')).toFixed(0)} MIPS on average)`);
      expect(await counter(page, 'virtioRequests')).toBeGreaterThan(0);
      expect(await counter(page, 'pageWalks')).toBeGreaterThan(0);
      expect(await counter(page, 'interrupts')).toBeGreaterThan(0);
    } finally {
      await page.close();
    }
  }, 300_000);

  it.skipIf(!haveChromium || !haveLinux || !slow)(`boots Linux to a shell and takes keyboard input${slowNote}`, async () => {
    const { page, errors } = await openPage();
    try {
      await page.selectOption('#guest', 'linux');
      await page.fill('#append', 'console=ttyS0');
      await page.click('#start');
      await waitForText(page, errors, 'wasmvisor: shell ready', 240_000);
      // the prompt: input typed before it may be lost
      await page.waitForFunction(() => /# $/.test((window as unknown as Exposed).wasmvisor.text().trimEnd() + ' '), null, { timeout: 30_000 });
      await page.click('#terminal');
      await page.keyboard.type('echo hi-from-xterm\n');
      await page.waitForFunction(() => /^hi-from-xterm$/m.test((window as unknown as Exposed).wasmvisor.text()), null, { timeout: 30_000 });
      expect(await termText(page)).toContain('echo hi-from-xterm');
      await page.click('#stop');
      expect(await waitForExit(page)).toMatchObject({ reason: 'stopped' });
    } finally {
      await page.close();
    }
  }, 300_000);
});

// The reference: QEMU's virt board with no firmware. A raw -kernel image is loaded at
// 0x8000_0000 and the reset ROM jumps there in M-mode; the guest's UART output is QEMU's
// stdout; the guest ends the run by writing 0x5555 to the SiFive test device.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const QEMU = process.env.WASMVISOR_QEMU ?? 'qemu-system-riscv64';

/**
 * QEMU 7.2's default `rv64` CPU has the H extension, as wasmvisor's hart does (both run with it),
 * and Zba/Zbb/Zbc/Zbs, which wasmvisor does not implement: they are switched off. The reference is
 * the ISA wasmvisor implements: RV64GC with S, U, H, Sstc and PMP. See docs/differential-testing.md.
 */
export const QEMU_CPU = 'rv64,h=true,zba=false,zbb=false,zbc=false,zbs=false';

export const QEMU_RAM_MB = 128;

let available: { ok: boolean; version: string; why: string } | undefined;

/** Is QEMU installed (and which version)? Cached. */
export function qemuAvailable(): { ok: boolean; version: string; why: string } {
  if (available) return available;
  const r = spawnSync(QEMU, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) {
    available = { ok: false, version: '', why: `${QEMU} not runnable: ${r.error?.message ?? r.stderr}` };
  } else {
    available = { ok: true, version: r.stdout.split('\n')[0], why: '' };
  }
  return available;
}

export interface QemuResult {
  /** the guest's UART output */
  out: string;
  timedOut: boolean;
  exitCode: number | null;
  stderr: string;
  seconds: number;
}

let tmp: string | undefined;
let counter = 0;
function tempDir(): string {
  if (!tmp) {
    tmp = mkdtempSync(join(tmpdir(), 'wasmvisor-diff-'));
    const dir = tmp;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return tmp;
}

/** Run one raw image on QEMU; kill it after `timeoutMs`. */
export function runQemu(image: Uint8Array, timeoutMs = 10_000): Promise<QemuResult> {
  const file = join(tempDir(), `img-${process.pid}-${counter++}.bin`);
  writeFileSync(file, image);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(QEMU, [
      '-M', 'virt', '-cpu', QEMU_CPU, '-bios', 'none', '-m', `${QEMU_RAM_MB}M`, '-smp', '1',
      '-nographic', '-monitor', 'none', '-kernel', file,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(file, { force: true });
      resolve({
        out: Buffer.concat(out).toString('latin1'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        exitCode: code,
        seconds: (performance.now() - t0) / 1000,
      });
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ out: '', stderr: String(e), timedOut: false, exitCode: null, seconds: 0 });
    });
  });
}

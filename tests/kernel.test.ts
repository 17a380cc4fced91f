// The teaching kernel (guests/kernel): its build reproduces the committed prebuilt image byte
// for byte, and it runs every nanobenchmark to completion under `wasmvisor run` and under
// QEMU with OpenSBI. Without the cross compiler the prebuilt image is tested.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist/cli.js');
const BUILD = join(ROOT, 'guests/kernel/build.mjs');
const BUILT = join(ROOT, 'build/guests/kernel/kernel-native.elf');
const PREBUILT = join(ROOT, 'guests/kernel/prebuilt/kernel-native.elf');
const BENCHMARKS = ['null_syscall', 'page_fault', 'pte_update', 'context_switch', 'mmio_read', 'block_read', 'timer_irq', 'hypercall', 'spawn_exit'];

// Build once while collecting; exit 3 means there is no cross compiler here.
const build = spawnSync(process.execPath, [BUILD], { encoding: 'utf8', timeout: 120_000 });
if (build.status !== 0 && build.status !== 3) throw new Error(`guests/kernel/build.mjs failed:\n${build.stderr}`);
const noCompiler = build.status === 3 ? build.stderr.trim().split('\n').at(-1)! : '';
if (noCompiler) console.warn(`\n*** ${noCompiler}; testing the prebuilt image ***\n`);
const KERNEL = noCompiler ? PREBUILT : BUILT;
const PV_KERNEL = KERNEL.replace(/kernel-native\.elf$/, 'kernel-pv.elf');
const hasQemu = spawnSync('qemu-system-riscv64', ['--version'], { stdio: 'ignore' }).status === 0;
const noQemu = hasQemu ? '' : ' (skipped: qemu-system-riscv64 not installed; apt-get install qemu-system-misc)';

const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-kernel-'));
const disk = join(dir, 'disk.img');
writeFileSync(disk, Buffer.alloc(64 * 1024, 0x5a)); // 128 sectors

interface Result { ops: bigint; cycles: bigint; instret: bigint; time: bigint }
interface Report { results: Map<string, Result>; errors: string[]; skipped: string[]; done: boolean; lines: string[] }

/** The wvbench lines of a console transcript (guests/kernel/README.md, "Output"). */
function parse(out: string): Report {
  const r: Report = { results: new Map(), errors: [], skipped: [], done: false, lines: [] };
  for (const line of out.split('\n').map((l) => l.replace(/\r$/, ''))) {
    if (!line.startsWith('wvbench ')) continue;
    r.lines.push(line);
    const m = /^wvbench name=(\w+) ops=(\d+) cycles=(\d+) instret=(\d+) time=(\d+)$/.exec(line);
    if (m) r.results.set(m[1], { ops: BigInt(m[2]), cycles: BigInt(m[3]), instret: BigInt(m[4]), time: BigInt(m[5]) });
    else if (line.startsWith('wvbench error ')) r.errors.push(line);
    else if (line.startsWith('wvbench skipped ')) r.skipped.push(line);
    else if (line === 'wvbench done') r.done = true;
    else throw new Error(`unexpected line: ${line}`);
  }
  return r;
}

function wasmvisor(...args: string[]) {
  const kernel = args.includes('paravirt') ? PV_KERNEL : KERNEL;
  const r = spawnSync(process.execPath, [CLI, 'run', '-m', '128M', '-kernel', kernel, '--idle', 'skip', ...args],
    { encoding: 'utf8', timeout: 60_000, input: '' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function expectEveryBenchmark(r: Report) {
  expect(r.errors).toEqual([]);
  expect(r.skipped).toEqual([]);
  expect([...r.results.keys()]).toEqual(BENCHMARKS);
  for (const [name, x] of r.results) {
    expect(x.ops, name).toBeGreaterThan(0n);
    expect(x.instret, name).toBeGreaterThan(0n);
  }
  expect(r.done).toBe(true);
  expect(r.lines.at(-1)).toBe('wvbench done');
}

describe('the teaching kernel', () => {
  it.skipIf(!!noCompiler)(`builds byte for byte the same image, the prebuilt one${noCompiler ? ` (skipped: ${noCompiler})` : ''}`, () => {
    const first = readFileSync(BUILT);
    const again = spawnSync(process.execPath, [BUILD, '--check-prebuilt'], { encoding: 'utf8', timeout: 120_000 });
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
    expect(readFileSync(BUILT).equals(first)).toBe(true);
  });

  it('runs every nanobenchmark under wasmvisor and powers off', () => {
    const r = wasmvisor('-drive', `file=${disk},if=virtio,format=raw,readonly=on`);
    expect(r.err).toBe('');
    const report = parse(r.out);
    expectEveryBenchmark(report);
    expect(r.code).toBe(0);
    // instret counts every instruction, the kernel's too: a system call is a trap, a few dozen
    // register saves and restores, and a return
    const nullCall = report.results.get('null_syscall')!;
    expect(Number(nullCall.instret / nullCall.ops)).toBeGreaterThan(50);
    expect(Number(nullCall.instret / nullCall.ops)).toBeLessThan(1000);
    // cycle = instret, and time ticks once per 10 instructions (docs/platform.md)
    expect(nullCall.cycles - nullCall.instret).toBeLessThan(10n);
    expect(nullCall.time * 10n - nullCall.instret).toBeLessThan(20n);
  });

  it('runs every nanobenchmark in its paravirtual build on the paravirt machine (the disk is the PV block ring)', () => {
    const r = wasmvisor('--type', 'paravirt', '--stats', '-drive', `file=${disk},if=virtio,format=raw,readonly=on`);
    const report = parse(r.out);
    expectEveryBenchmark(report);
    expect(r.code).toBe(0);
    expect(r.out).toContain('console hypercall');
    // the counters (--stats): hypercalls, and not one privileged instruction trapped
    expect(r.err).toMatch(/^pvHypercalls\s+[1-9]\d*$/m);
    expect(r.err).toMatch(/^pvPrivFaults\s+0$/m);
    expect(r.err).toMatch(/^pv-blk @pv-ring: [1-9]\d* requests, [1-9]\d* notifies, 0 interrupts, 0 errors$/m);
  });

  it('takes iters= and only= from the command line, skips the block read without a disk, and repeats exactly', () => {
    const args = ['-append', 'iters=50 only=null_syscall,block_read,spawn_exit'];
    const r = wasmvisor(...args);
    expect(r.code).toBe(0);
    const report = parse(r.out);
    expect(report.errors).toEqual([]);
    expect([...report.results.keys()]).toEqual(['null_syscall', 'spawn_exit']);
    expect(report.results.get('null_syscall')!.ops).toBe(50n);
    expect(report.results.get('spawn_exit')!.ops).toBe(50n);
    expect(report.skipped).toEqual(['wvbench skipped name=block_read reason=no-disk']);
    expect(report.done).toBe(true);
    // with --idle skip the machine is deterministic: the same counts every time
    expect(wasmvisor(...args).out).toBe(r.out);
  });

  it.skipIf(!hasQemu)(`runs every nanobenchmark under qemu-system-riscv64 -M virt with OpenSBI${noQemu}`, () => {
    const r = spawnSync('qemu-system-riscv64', [
      '-M', 'virt', '-m', '128M', '-nographic', '-bios', 'default', '-kernel', KERNEL,
      // QEMU's virtio-mmio is version 1 (legacy) unless told otherwise; the kernel wants 2
      '-global', 'virtio-mmio.force-legacy=false',
      '-drive', `file=${disk},if=none,id=hd0,format=raw,readonly=on`, '-device', 'virtio-blk-device,drive=hd0',
    ], { encoding: 'utf8', timeout: 60_000, input: '' });
    expectEveryBenchmark(parse(r.stdout));
    expect(r.status).toBe(0);
  });
});

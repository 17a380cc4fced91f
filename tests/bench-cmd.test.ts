// `wasmvisor bench` and runBench(): the teaching kernel's nanobenchmarks measured from the host.
// Small iteration counts keep this file to a few seconds; the numbers are checked for being
// measured at all, and the deterministic counters (traps, exits, hypercalls) for their values.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench, BENCHMARK_NAMES, formatBenchTable, benchHtml, type BenchReport } from '../src/bench.js';
import { ConfigError } from '../src/machine.js';

const cli = join(__dirname, '..', 'dist', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-bench-'));

function bench(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, 'bench', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// about 5 ms of host time per N for each benchmark (the interpreter's pace)
const SMALL = {
  null_syscall: 5000, page_fault: 600, pte_update: 600, context_switch: 2000,
  mmio_read: 5000, block_read: 600, timer_irq: 1200, hypercall: 5000, spawn_exit: 30,
};

describe('runBench', () => {
  let report: BenchReport;

  it('measures every nanobenchmark on native, paravirt, hw-assist, kvm and full (three ways): ops, guest instructions and host ns per operation', async () => {
    const progress: string[] = [];
    report = await runBench({ iters: SMALL, repeats: 3, onProgress: (l) => progress.push(l) });
    expect(report.types).toEqual(['native', 'paravirt', 'hw-assist', 'kvm', 'full', 'full+bt', 'full+trace']);
    expect(report.benchmarks).toEqual(BENCHMARK_NAMES);
    expect(report.results.map((r) => r.benchmark)).toEqual(report.types.flatMap(() => BENCHMARK_NAMES));
    const native = expect.stringMatching(/kernel-native\.elf$/); // unmodified everywhere but paravirt
    expect(report.kernels).toEqual({
      native, paravirt: expect.stringMatching(/kernel-pv\.elf$/), 'hw-assist': native, kvm: native,
      full: native, 'full+bt': native, 'full+trace': native,
    });
    // full: the kernel deprivileged; its privileged instructions trap (full, full+trace) or
    // call the VMM from translated code (full+bt): the same emulation, fewer traps
    const fv = (type: string, n: string) => report.results.find((r) => r.type === type && r.benchmark === n)!;
    for (const type of ['full', 'full+bt', 'full+trace'])
      for (const r of report.results.filter((x) => x.type === type)) expect(r.status, `${type} ${r.benchmark}: ${r.reason}`).toBe('ok');
    for (const n of BENCHMARK_NAMES) {
      expect(fv('full', n).emulatedPerOp, n).toBeGreaterThan(1);
      expect(fv('full+bt', n).emulatedPerOp, n).toBeCloseTo(fv('full', n).emulatedPerOp, 0);
      expect(fv('full', n).trapsPerOp - fv('full+bt', n).trapsPerOp, n).toBeGreaterThan(0.9 * fv('full', n).emulatedPerOp);
    }
    // a system call: the ecall traps in every variant (the guest's own trap, reflected)
    expect(fv('full+bt', 'null_syscall').trapsPerOp).toBeCloseTo(1, 1);
    // PTE changes: lazy shadows sync at the guest's SFENCE.VMA; traced ones apply the writes to
    // page tables the VMM has walked (pte_update's table never is: it maps a page nothing touches)
    expect(fv('full', 'pte_update').shadowSyncsPerOp).toBeGreaterThanOrEqual(1);
    expect(fv('full+trace', 'pte_update').shadowSyncsPerOp).toBe(0);
    expect(fv('full+trace', 'page_fault').shadowSyncsPerOp).toBeGreaterThanOrEqual(1);
    // a page fault: the guest's fault reflected, then the new page's shadow entry filled (hidden)
    expect(fv('full', 'page_fault').hiddenFaultsPerOp).toBeGreaterThanOrEqual(1);
    // the same kernel in VS-mode on the H extension, under the built-in VMM or KVM's split
    for (const type of ['hw-assist', 'kvm']) {
      const hw = report.results.filter((r) => r.type === type);
      for (const r of hw) expect(r.status, `${type} ${r.benchmark}: ${r.reason}`).toBe('ok');
      const hwBy = (n: string) => hw.find((r) => r.benchmark === n)!;
      // the device register read is a guest-page fault the VMM emulates; the SBI call a VM exit
      expect(hwBy('mmio_read').exitsPerOp, type).toBeCloseTo(1, 1);
      expect(hwBy('hypercall').exitsPerOp, type).toBeCloseTo(1, 1);
      expect(hwBy('null_syscall').exitsPerOp, type).toBeCloseTo(0, 1); // the system call stays in the guest
      // a page fault's TLB refills walk both stages
      expect(hwBy('page_fault').walkRefs2dPerOp, type).toBeGreaterThan(3);
    }
    for (const r of report.results.filter((x) => x.type === 'native' || x.type === 'paravirt')) expect(r.walkRefs2dPerOp).toBe(0);
    const pv = report.results.filter((r) => r.type === 'paravirt');
    for (const r of pv) {
      expect(r.status, `${r.benchmark}: ${r.reason}`).toBe('ok');
      // the paravirtual kernel: no trap-and-emulate, at least one hypercall per operation (the return to user)
      expect(r.emulatedPerOp, r.benchmark).toBe(0);
      expect(r.hypercallsPerOp, r.benchmark).toBeGreaterThanOrEqual(1);
      // host timings are measured, not asserted (a loaded host can even make them negative)
      expect(Number.isFinite(r.ratioToNative), r.benchmark).toBe(true);
    }
    // a block read is one PV_BLK_NOTIFY: one exit to the host's backend
    expect(pv.find((r) => r.benchmark === 'block_read')!.exitsPerOp).toBeCloseTo(1, 1);
    for (const r of report.results.filter((x) => x.type === 'native')) {
      expect(r.status, `${r.benchmark}: ${r.reason}`).toBe('ok');
      expect(r.ops, r.benchmark).toBeGreaterThan(0);
      expect(r.instructionsPerOp, r.benchmark).toBeGreaterThan(0);
      expect(Number.isFinite(r.nsPerOp), r.benchmark).toBe(true);
      expect(r.ratioToNative).toBe(1);
      expect(r.short!.iters * 2).toBe(r.long!.iters);
      expect(r.short!.allMs).toHaveLength(3);
    }
    expect(progress.some((l) => /null_syscall: [\d,.]+ ns\/op/.test(l))).toBe(true);
  }, 120_000);

  it('counts traps, exits and hypercalls per operation from the machine', () => {
    const by = (n: string) => report.results.find((r) => r.benchmark === n && r.type === 'native')!;
    // a system call is one ecall from U-mode; the timer interrupts now and then
    expect(by('null_syscall').trapsPerOp).toBeCloseTo(1, 1);
    expect(by('null_syscall').exceptionsByCause['ecall from U']).toBe(1);
    expect(by('null_syscall').exitsPerOp).toBe(0);
    expect(by('null_syscall').hypercallsPerOp).toBeCloseTo(0, 2);
    // ops = 2 per iteration
    expect(by('context_switch').ops).toBe(2 * SMALL.context_switch);
    // a page fault, and an unmap call per 64 pages
    expect(by('page_fault').exceptionsByCause['load page fault']).toBe(1);
    // one notify store per sector read: one exit to the host's virtio-blk
    expect(by('block_read').exitsPerOp).toBe(1);
    // alarm() arms the SBI timer, the interrupt handler disarms it: two SBI calls, a syscall and an interrupt
    expect(by('timer_irq').hypercallsPerOp).toBeCloseTo(2, 1);
    expect(by('timer_irq').interruptsByCause['S timer']).toBeCloseTo(1, 1);
    // the guest's instret over the measured part matches the machine's count between the runs
    expect(by('null_syscall').hostInstructionsPerOp).toBeCloseTo(by('null_syscall').instructionsPerOp, 0);
  });

  it('formats a table and a self-contained HTML report', () => {
    const table = formatBenchTable(report);
    expect(table.split('\n')[0]).toMatch(/^benchmark\s+machine\s+N\s+ns\/op\s+±\s+insns\/op\s+traps\/op\s+exits\/op\s+hypercalls\/op\s+emulated\/op\s+2-D refs\/op\s+hidden\/op\s+syncs\/op\s+vs native$/);
    for (const n of BENCHMARK_NAMES) {
      expect(table).toMatch(new RegExp(`^${n}\\s+native\\s+\\d+\\s+-?[\\d,]+`, 'm'));
      // paravirt: emulated/op 0, no 2-D walks, no shadow tables
      expect(table).toMatch(new RegExp(`^${n}\\s+paravirt\\s+\\d+\\s+-?[\\d,.]+.*\\s0\\.00\\s+0\\.00\\s+0\\.00\\s+0\\.00\\s+-?[\\d.]+x$`, 'm'));
      for (const t of ['full', 'full\\+bt', 'full\\+trace']) expect(table).toMatch(new RegExp(`^${n}\\s+${t}\\s+\\d+\\s+-?[\\d,.]+`, 'm'));
      expect(table).toMatch(new RegExp(`^${n}\\s+hw-assist\\s+\\d+\\s+-?[\\d,]+`, 'm'));
      expect(table).toMatch(new RegExp(`^${n}\\s+kvm\\s+\\d+\\s+-?[\\d,]+`, 'm'));
    }
    const html = benchHtml(report);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/(src|href)=["']?https?:/); // nothing external
    // a bar per benchmark and machine with a measurable time (a loaded host can leave some
    // without: they get a line of text), and the legend's swatch per machine
    const bars = report.results.filter((r) => r.status === 'ok' && r.nsPerOp > 0).length;
    expect(html.match(/<rect [^>]*fill=/g)).toHaveLength(bars + report.types.length);
    expect(html.match(/no measurable difference/g) ?? []).toHaveLength(report.results.length - bars);
  });

  it.each([
    [{ types: ['container'] }, /machine type 'container' is not implemented yet; 'native', 'paravirt', 'hw-assist', 'kvm' and 'full' run today/],
    [{ types: ['paravirt'], pvKernel: join(dir, 'none.elf') }, /cannot read kernel .*none\.elf: ENOENT/],
    [{ types: ['vmware'] }, /unknown machine type 'vmware'/],
    [{ only: ['fork_bomb'] }, /unknown benchmark 'fork_bomb'/],
    [{ only: ['toString'] }, /unknown benchmark 'toString'/], // a name on every object's prototype
    [{ iters: 0 }, /iterations must be a whole number/],
    [{ iters: 1.5 }, /iterations must be a whole number/],
    [{ kernel: join(dir, 'none.elf') }, /cannot read kernel .*none\.elf: ENOENT/],
  ])('rejects %j before running anything', async (opts, msg) => {
    await expect(runBench(opts)).rejects.toThrow(ConfigError);
    await expect(runBench(opts)).rejects.toThrow(msg);
  });
});

describe('wasmvisor bench', () => {
  it('prints JSON with --json and writes an HTML report with --html', () => {
    const html = join(dir, 'report.html');
    const r = bench('--type', 'native', '--only', 'null_syscall,timer_irq', '--iters', '1500', '--repeats', '2', '--json', '--html', html);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.types).toEqual(['native']);
    expect(report.iters).toEqual({ null_syscall: 1500, timer_irq: 1500 });
    expect(report.results.map((x: { benchmark: string }) => x.benchmark)).toEqual(['null_syscall', 'timer_irq']);
    for (const x of report.results) {
      expect(x).toMatchObject({ type: 'native', status: 'ok', ops: 1500, ratioToNative: 1 });
      for (const k of ['nsPerOp', 'nsPerOpError', 'instructionsPerOp', 'trapsPerOp', 'exitsPerOp', 'hypercallsPerOp'])
        expect(typeof x[k], k).toBe('number');
      expect(x.instructionsPerOp).toBeGreaterThan(0);
    }
    // progress on stderr, not in the JSON
    expect(r.err).toMatch(/\[bench\] native null_syscall/);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<svg');
    expect(page).toContain('null_syscall');
    expect(page).toContain('<style>');
  }, 60_000);

  it('prints a table by default', () => {
    const r = bench('--only', 'mmio_read', '--iters', '3000', '--repeats', '1');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^benchmark\s+machine\s+N\s+ns\/op/);
    expect(r.out).toMatch(/^mmio_read\s+native\s+3000\s+-?[\d,.]+\s+\S*\s+156\.\d\s+1\.00\s+0\.00\s+0\.00\s+0\.00\s+0\.00\s+0\.00\s+0\.00\s+1\.00x$/m);
    // paravirtual: the register read is a hypercall; so is the return to user
    expect(r.out).toMatch(/^mmio_read\s+paravirt\s+3000\s+-?[\d,.]+\s+\S*\s+103\.\d\s+3\.00\s+0\.00\s+2\.00\s+0\.00\s+0\.00\s+0\.00\s+0\.00\s+-?[\d.]+x$/m);
    // hw-assist: the same kernel as native; the register read is a VM exit (a guest-page fault)
    expect(r.out).toMatch(/^mmio_read\s+hw-assist\s+3000\s+-?[\d,.]+\s+\S*\s+15\d\.\d\s+2\.00\s+1\.00\s+0\.00\s+0\.00\s+[\d.]+\s+0\.00\s+0\.00\s+-?[\d.]+x$/m);
    // full: the kernel's privileged instructions trap to be emulated; binary translation calls the VMM instead
    const fullRow = (t: string) => new RegExp(`^mmio_read\\s+${t}\\s+3000\\s+-?[\\d,.]+\\s+\\S*\\s+[\\d.]+\\s+([\\d.]+)\\s+[\\d.]+\\s+[\\d.]+\\s+([\\d.]+)\\s+0\\.00`, 'm');
    const [, fullTraps, fullEmulated] = fullRow('full').exec(r.out)!;
    const [, btTraps, btEmulated] = fullRow('full\\+bt').exec(r.out)!;
    expect(Number(btEmulated)).toBe(Number(fullEmulated));
    expect(Number(fullTraps) - Number(btTraps)).toBeCloseTo(Number(fullEmulated), 0);
  }, 60_000);

  it.each([
    [['--type', 'container'], /^wasmvisor: bench: machine type 'container' is not implemented yet; 'native', 'paravirt', 'hw-assist', 'kvm' and 'full' run today$/],
    [['--type', 'native,hypervisor'], /^wasmvisor: bench: machine type 'hypervisor' is not implemented yet/],
    [['--type', 'vmware'], /^wasmvisor: bench: unknown machine type 'vmware' \(one of: native, /],
    [['--iters', 'lots'], /^wasmvisor: bench: --iters takes a whole number from 1 to 1000000000, not 'lots'$/],
    [['--iters', '0'], /^wasmvisor: bench: --iters takes a whole number/],
    [['--iters'], /^wasmvisor: bench: --iters needs a value$/],
    [['--only', 'null_syscall,nope'], /^wasmvisor: bench: unknown benchmark 'nope'/],
    [['--only', 'constructor'], /^wasmvisor: bench: unknown benchmark 'constructor'/],
    [['--jit', 'maybe'], /^wasmvisor: bench: --jit takes on or off/],
    [['--frobnicate'], /^wasmvisor: bench: unknown option '--frobnicate'/],
  ])('rejects %j with one line and a non-zero exit', (args, msg) => {
    const r = bench(...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err.trim()).toMatch(msg);
  });

  it('says in one line when the kernel cannot be read', () => {
    const r = bench('-kernel', join(dir, 'missing.elf'), '--only', 'null_syscall', '--iters', '10');
    expect(r.code).toBe(1);
    expect(r.err.trim()).toMatch(/^wasmvisor: cannot read kernel .*missing\.elf: ENOENT$/);
  });

  it('says in one line, before measuring, that the HTML report cannot be written', () => {
    const r = bench('--html', join(dir, 'no', 'such', 'dir', 'r.html'));
    expect(r.code).toBe(1);
    expect(r.err.trim()).toMatch(/^wasmvisor: cannot write .*r\.html: no directory .*dir$/);
  });

  it('has help', () => {
    const r = bench('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: wasmvisor bench/);
    expect(r.out).toContain('--html FILE');
  });
});

// The CLI as a user runs it: real processes, real files, exit codes and one-line errors.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Program, R } from './helpers/program.js';
import { makeElf } from './helpers/elf.js';

const cli = join(__dirname, '..', 'dist', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-cli-'));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function hello(status = 0): Uint8Array {
  const p = new Program();
  p.li(R.t0, 0x1000_0000n);
  for (const ch of 'hello\n') p.li(R.t1, ch.charCodeAt(0)).i('sb', { rs1: R.t0, rs2: R.t1 });
  p.li(R.t0, 0x10_0000n).li(R.t1, status ? (status << 16) | 0x3333 : 0x5555).i('sw', { rs1: R.t0, rs2: R.t1 });
  return p.assemble();
}

let elf: string;
beforeAll(() => {
  elf = join(dir, 'hello.elf');
  writeFileSync(elf, makeElf(hello()));
});

describe('wasmvisor run', () => {
  it('runs an ELF bare and prints its console', () => {
    const r = run('run', '-bios', 'none', '-kernel', elf);
    expect(r.err).toBe('');
    expect(r.out).toBe('hello\n');
    expect(r.code).toBe(0);
  });

  it('runs a raw image at 0x80000000 and reports counters with --stats', () => {
    const raw = join(dir, 'hello.bin');
    writeFileSync(raw, hello());
    const r = run('run', '-bios', 'none', '-kernel', raw, '-m', '16M', '--stats');
    expect(r.out).toBe('hello\n');
    expect(r.err).toMatch(/^instret\s+\d+/m);
    expect(r.err).toMatch(/^MIPS\s+[\d.]+/m);
    expect(r.err).toMatch(/^jit\s+\d+ regions \(\d+ instructions\) compiled in \d+ ms/m);
    const off = run('run', '-bios', 'none', '-kernel', raw, '-m', '16M', '--stats', '--jit', 'off');
    expect(off.out).toBe('hello\n');
    expect(off.err).not.toMatch(/^jit\s/m);
    expect(off.err).toMatch(/^jitRetired\s+0$/m);
  });

  it('exits with the guest failure code', () => {
    const f = join(dir, 'fail.elf');
    writeFileSync(f, makeElf(hello(3)));
    expect(run('run', '-bios', 'none', '-kernel', f).code).toBe(3);
  });

  it('stops at --max-insns', () => {
    const p = new Program();
    p.label('spin').i('jal', { rd: 0 }, 'spin');
    const f = join(dir, 'spin.elf');
    writeFileSync(f, makeElf(p.assemble()));
    const r = run('run', '-bios', 'none', '-kernel', f, '--max-insns', '1000');
    expect(r.code).toBe(0);
    expect(r.err).toContain('stopped after 1000 instructions (pc 0x80000000 in M-mode, after jal zero, pc+0)');
  });

  it('traces every instruction with --trace', () => {
    const r = run('run', '-bios', 'none', '-kernel', elf, '--trace');
    const lines = r.err.trim().split('\n');
    expect(lines[0]).toBe('M 0x0000000080000000: lui t0, 0x10000');
    expect(lines.at(-1)).toMatch(/^M 0x[0-9a-f]{16}: sw t1, 0\(t0\)$/);
    expect(r.out).toBe('hello\n');
  });

  it('says why a hart that waits forever stopped', () => {
    const p = new Program();
    p.i('wfi');
    const f = join(dir, 'wfi.elf');
    writeFileSync(f, makeElf(p.assemble()));
    const r = run('run', '-bios', 'none', '-kernel', f);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/waiting \(WFI\) with no interrupt that can wake it \(pc 0x80000004 in M-mode, after wfi\)/);
  });

  it.each([
    [['run', '-bios', 'none'], /-kernel FILE is required/],
    [['run', '-bios', 'none', '-kernel', elf, '--bogus'], /unknown option '--bogus'/],
    [['run', '-bios', 'none', '-kernel', elf, '--idle', 'maybe'], /--idle takes sleep or skip/],
    [['run', '-bios', 'none', '-kernel', elf, '--jit', 'maybe'], /--jit takes on or off, not 'maybe'/],
    [['run', '-kernel', elf, '--trace'], /--trace needs -bios none/],
    [['run', '-kernel', elf, '-cpu', 'rv64,v=on'], /extension 'v' is not implemented/],
    [['run', '-kernel', elf, '-cpu', 'rv64,h=maybe'], /h=maybe: expected on or off/],
    [['run', '-kernel', elf, '-cpu', 'rv32'], /-cpu rv32: the hart is an rv64/],
    [['run', '-kernel', elf, '-cpu', 'rv64,c=off'], /'c' cannot be turned off/],
    [['run', '-kernel', elf, '-drive', 'if=virtio'], /file= is required/],
    [['run', '-kernel', elf, '-drive', 'file=x,if=ide'], /if=ide is not supported/],
    [['run', '-kernel', elf, '-device', 'e1000'], /-device e1000: unknown device/],
    [['run', '-bios', 'none', '-kernel', elf, '--type', 'vmware'], /unknown machine type 'vmware'/],
    [['run', '-bios', 'none', '-kernel', elf, '--type', 'container'], /'container' is not implemented yet/],
    [['run', '-bios', 'none', '-kernel', elf, '--type', 'kvm'], /--type kvm: .*no -bios/],
    [['run', '-bios', 'none', '-kernel', elf, '-m', 'lots'], /bad size 'lots'/],
    [['run', '-kernel', elf, '--type', 'full', '--technique', 'jit'], /--technique takes trap-and-emulate or binary-translation, not 'jit'/],
    [['run', '-kernel', elf, '--type', 'full', '--shadow', 'eager'], /--shadow takes lazy or trace, not 'eager'/],
    [['run', '-kernel', elf, '--shadow', 'trace'], /--shadow is for --type full \(the full machine\), not native/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('rejects bad usage %j', (args, msg) => {
    const r = run(...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
    expect(r.err).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it.each([
    ['missing file', () => join(dir, 'nope.elf'), /cannot read .*nope\.elf: ENOENT/],
    ['truncated ELF', () => { const f = join(dir, 't.elf'); writeFileSync(f, makeElf(hello()).subarray(0, 40)); return f; }, /truncated ELF header/],
    ['32-bit ELF', () => { const f = join(dir, 'c32.elf'); writeFileSync(f, makeElf(hello(), undefined, undefined, { class: 1 })); return f; }, /not a 64-bit ELF/],
    ['x86 ELF', () => { const f = join(dir, 'x86.elf'); writeFileSync(f, makeElf(hello(), undefined, undefined, { machine: 62 })); return f; }, /not a RISC-V ELF \(e_machine 62\)/],
    ['segment outside RAM', () => { const f = join(dir, 'low.elf'); writeFileSync(f, makeElf(hello(), 0x1000n)); return f; }, /does not fit in RAM/],
    ['empty raw image', () => { const f = join(dir, 'empty.bin'); writeFileSync(f, new Uint8Array(0)); return f; }, /empty image/],
  ])('rejects a %s with one clear line', (_n, file, msg) => {
    const r = run('run', '-bios', 'none', '-kernel', (file as () => string)());
    expect(r.code).toBe(1);
    expect(r.err).toMatch(msg);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it.each([
    ['a disk image that cannot be opened', () => ['-drive', `file=${join(dir, 'nope.img')},if=virtio`], /cannot open disk image '.*nope\.img': ENOENT/],
    ['firmware that cannot be read', () => ['-bios', join(dir, 'nofw.bin')], /cannot read firmware .*nofw\.bin: ENOENT/],
    ['a kernel too large for the memory', () => ['-m', '4M'], /needs at least .* MiB of RAM, the machine has 4\.0 MiB/],
  ])('rejects %s with one clear line', (_n, extra, msg) => {
    const big = join(dir, 'big.bin');
    writeFileSync(big, new Uint8Array(5 << 20));
    const r = run('run', '-kernel', big, ...(extra as () => string[])());
    expect(r.code).toBe(1);
    expect(r.err).toMatch(msg);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('rejects RAM sizes the core cannot have', () => {
    const r = run('run', '-bios', 'none', '-kernel', elf, '-m', '5000G');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/RAM size .* at most/);
  });
});

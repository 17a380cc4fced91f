// createMachine(): loading (Linux Image header, initrd, device tree), the run loop (console,
// pause/resume, stop, idle, poweroff status) and the errors a user gets for bad input.
import { describe, it, expect } from 'vitest';
import { createMachine, ConfigError, parseSize } from '../src/machine.js';
import { LoadError } from '../src/loader/elf.js';
import { parseFdt, findNode, getString, getU64s, getU32s } from '../src/platform/fdt.js';
import { Program, R } from './helpers/program.js';
import { makeElf } from './helpers/elf.js';

import { KERNEL_PA, SRST, DBCN, linuxImage, sbi, putc } from './helpers/guest.js';

describe('createMachine: loading', () => {
  it('puts an Image at text_offset, the initrd and device tree at the top of RAM, and starts it in S-mode', async () => {
    // the kernel keeps a1 (the device tree) in s1 and powers off
    const kernel = linuxImage((p) => { p.i('addi', { rd: R.s1, rs1: R.a1, imm: 0 }); sbi(p, SRST, 0, 0, 0); });
    const initrd = new Uint8Array(10_000).fill(7);
    const m = await createMachine({ memory: '64M', kernel, initrd, append: 'console=ttyS0 wvrun="x"' });
    expect(m.layout.kernel.start).toBe(KERNEL_PA);
    expect(m.layout.resetMode).toBe('S');
    const r = await m.run();
    expect(r.reason).toBe('poweroff');
    expect(r.status).toBe(0);
    const dtbPa = m.core.x(R.s1);
    expect(dtbPa).toBe(m.layout.dtb.start);
    expect(dtbPa % (2n << 20n)).toBe(0n);
    const root = parseFdt(m.core.ram(dtbPa, Number(m.layout.dtb.end - dtbPa)));
    const chosen = findNode(root, '/chosen')!;
    expect(getString(chosen, 'bootargs')).toBe('console=ttyS0 wvrun="x"');
    const [start] = getU64s(chosen, 'linux,initrd-start')!;
    const [end] = getU64s(chosen, 'linux,initrd-end')!;
    expect(end - start).toBe(10_000n);
    expect(end).toBeLessThanOrEqual(dtbPa);
    expect([...m.core.ram(start, 4)]).toEqual([7, 7, 7, 7]);
    expect(getU32s(findNode(root, '/memory')!, 'reg')).toEqual([0, 0x8000_0000, 0, 64 << 20]);
  });

  it('-bios none: an ELF runs from its entry in M-mode with a0 = 0 and a1 = the device tree', async () => {
    const p = new Program();
    p.i('addi', { rd: R.s1, rs1: R.a1, imm: 0 }).li(R.t0, 0x10_0000n).li(R.t1, 0x5555).i('sw', { rs1: R.t0, rs2: R.t1 });
    const m = await createMachine({ memory: '16M', kernel: makeElf(p.assemble()), bios: 'none' });
    expect(m.layout.resetMode).toBe('M');
    expect((await m.run()).reason).toBe('poweroff');
    expect(m.core.x(R.s1)).toBe(m.layout.dtb.start);
  });

  it.each([
    ['rv64 (the default)', undefined, true, 'rv64imafdch_zicntr_zicsr_zifencei'],
    ['rv64,h=off', 'rv64,h=off', false, 'rv64imafdc_zicntr_zicsr_zifencei'],
  ])('-cpu %s: misa.H and the device tree\'s riscv,isa agree', async (_n, cpu, h, isa) => {
    // the kernel reads misa in M-mode and stops
    const p = new Program();
    p.i('csrrs', { rd: R.s1, rs1: 0, csr: 0x301 }).li(R.t0, 0x10_0000n).li(R.t1, 0x5555).i('sw', { rs1: R.t0, rs2: R.t1 });
    const m = await createMachine({ memory: '16M', kernel: makeElf(p.assemble()), bios: 'none', cpu });
    expect((await m.run()).reason).toBe('poweroff');
    expect((m.core.x(R.s1) >> 7n) & 1n).toBe(h ? 1n : 0n);
    const dt = new TextDecoder('latin1').decode(m.core.ram(m.layout.dtb.start, Number(m.layout.dtb.end - m.layout.dtb.start)));
    expect(dt).toContain(`${isa}\0`);
  });

  it.each([
    ['an unknown type', { type: 'vmware' }, ConfigError, /unknown machine type 'vmware'/],
    ['a type not built yet', { type: 'container' }, ConfigError, /'container' is not implemented yet/],
    ['kvm, whose VMs are workers (KvmMachine)', { type: 'kvm' }, ConfigError, /runs each VM in its own worker/],
    ['a bad size', { memory: 'lots' }, ConfigError, /bad memory size 'lots'/],
    ['an odd size', { memory: 5000 }, ConfigError, /not a multiple of 4 KiB/],
    ['no kernel', { kernel: undefined }, ConfigError, /no kernel/],
    ['an empty kernel', { kernel: new Uint8Array(0) }, LoadError, /empty image/],
    ['a gzip kernel', { kernel: new Uint8Array([0x1f, 0x8b, 8, 0]) }, LoadError, /gzip-compressed kernel/],
    ['idle mode', { idle: 'nap' }, ConfigError, /idle must be 'sleep' or 'skip'/],
    ['an unknown cpu extension', { cpu: 'rv64,v=on' }, ConfigError, /-cpu: extension 'v' is not implemented/],
    ['a base extension turned off', { cpu: 'rv64,m=off' }, ConfigError, /'m' cannot be turned off/],
    ['too many virtio devices', { drives: Array.from({ length: 9 }, () => ({ data: new Uint8Array(512) })) }, ConfigError, /9 virtio devices, but the board has 8/],
  ])('rejects %s', async (_n, extra, cls, msg) => {
    const kernel = linuxImage((p) => p.i('wfi'));
    const opts = { memory: '16M', kernel, ...extra } as Parameters<typeof createMachine>[0];
    const e = await createMachine(opts).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(cls);
    expect((e as Error).message).toMatch(msg);
  });

  it('says how much memory the kernel and initrd need', async () => {
    // image_size 20 MiB (bss included) at 2 MiB into 16 MiB of RAM
    const kernel = linuxImage((p) => p.i('wfi'), 20n << 20n);
    await expect(createMachine({ memory: '16M', kernel })).rejects.toThrow(/kernel does not fit: it needs at least 22\.0 MiB of RAM, the machine has 16\.0 MiB/);
    const small = linuxImage((p) => p.i('wfi'));
    await expect(createMachine({ memory: '8M', kernel: small, initrd: new Uint8Array(7 << 20) }))
      .rejects.toThrow(/kernel \+ initrd \+ device tree need at least \d+\.0 MiB of RAM, the machine has 8\.0 MiB/);
  });

  it('parses QEMU-style sizes', () => {
    expect(parseSize('512M')).toBe(512n << 20n);
    expect(parseSize('1G')).toBe(1n << 30n);
    expect(parseSize('128')).toBe(128n << 20n);
    expect(() => parseSize('-1M')).toThrow(ConfigError);
  });
});

describe('Machine: the run loop', () => {
  it('echoes console input, pauses and resumes, and reports the SBI reset reason as the status', async () => {
    // read characters with legacy getchar until 'q', echoing each; then shut down with reason 1
    const kernel = linuxImage((p) => {
      p.label('loop');
      sbi(p, 2, 0);
      p.i('blt', { rs1: R.a0, rs2: 0 }, 'loop');
      p.i('addi', { rd: R.s2, rs1: R.a0, imm: 0 });
      p.li(R.a7, 1).i('ecall'); // legacy putchar(a0)
      p.li(R.t0, 'q'.charCodeAt(0)).i('bne', { rs1: R.s2, rs2: R.t0 }, 'loop');
      sbi(p, SRST, 0, 0, 1);
    });
    const out: number[] = [];
    const m = await createMachine({ memory: '16M', kernel, onConsole: (b) => out.push(...b) });
    const running = m.run();
    m.pause();
    const paused = await running;
    expect(paused.reason).toBe('paused');
    const before = paused.stats.instret;
    m.sendConsole('abq');
    const done = await m.run();
    expect(done.reason).toBe('poweroff');
    expect(done.status).toBe(1);
    expect(String.fromCharCode(...out)).toBe('abq');
    expect(done.stats.instret).toBeGreaterThan(before);
    expect(done.stats.sbiCalls).toBeGreaterThan(3n);
    // a finished machine returns its result again
    expect((await m.run()).reason).toBe('poweroff');
  });

  it('stop() ends a guest that never stops; a second run() while running is refused', async () => {
    const kernel = linuxImage((p) => p.label('spin').i('jal', { rd: 0 }, 'spin'));
    const m = await createMachine({ memory: '16M', kernel });
    const running = m.run();
    await expect(m.run()).rejects.toThrow(/already in progress/);
    let midway = 0;
    setTimeout(() => { midway = m.stats().seconds; m.stop(); }, 50);
    const r = await running;
    expect(r.reason).toBe('stopped');
    expect(midway).toBeGreaterThan(0.02); // counted while running, not only at the end
    expect(r.stats.instret).toBeGreaterThan(0n);
    expect(r.stats.seconds).toBeGreaterThan(0);
  });

  it('a guest waiting for input that will never come is idle once input ends', async () => {
    const kernel = linuxImage((p) => p.label('w').i('wfi').i('jal', { rd: 0 }, 'w'));
    const m = await createMachine({ memory: '16M', kernel });
    const running = m.run();
    setTimeout(() => m.endInput(), 20);
    expect((await running).reason).toBe('idle');
  });

  it('sleeps through a guest timer in real time (idle: sleep) or skips it (idle: skip)', async () => {
    // set a timer 50 ms (500,000 ticks) ahead, enable STIE, wait for it, power off
    const kernel = (p: Program) => {
      p.la(R.t0, 'handler').i('csrrw', { rd: 0, rs1: R.t0, csr: 0x105 });
      p.li(R.t0, 1 << 5).i('csrrs', { rd: 0, rs1: R.t0, csr: 0x104 });
      p.i('csrrs', { rd: R.a0, rs1: 0, csr: 0xc01 }).li(R.t1, 500_000).i('add', { rd: R.a0, rs1: R.a0, rs2: R.t1 });
      p.li(R.a7, 0x54494d45).li(R.a6, 0).i('ecall');
      p.li(R.t0, 2).i('csrrs', { rd: 0, rs1: R.t0, csr: 0x100 });
      p.label('w').i('wfi').i('jal', { rd: 0 }, 'w');
      p.label('handler');
      sbi(p, SRST, 0, 0, 0);
    };
    const timed = async (idle: 'sleep' | 'skip') => {
      const m = await createMachine({ memory: '16M', kernel: linuxImage(kernel), idle });
      const t0 = performance.now();
      const r = await m.run();
      expect(r.reason).toBe('poweroff');
      expect(r.stats.interruptsByCause[5]).toBe(1n);
      return performance.now() - t0;
    };
    expect(await timed('sleep')).toBeGreaterThanOrEqual(45);
    expect(await timed('skip')).toBeLessThan(45);
  });

  it('reports a virtio-blk device in stats, in the slot QEMU would use', async () => {
    const kernel = linuxImage((p) => { putc(p, '.'); sbi(p, SRST, 0, 0, 0); });
    const m = await createMachine({ memory: '16M', kernel, drives: [{ data: new Uint8Array(4096), readOnly: true }], rng: { seed: 1 } });
    const r = await m.run();
    expect(r.stats.devices.map((d) => [d.device, d.address])).toEqual([['virtio-rng', '0x10007000'], ['virtio-blk', '0x10008000']]);
  });
});

describe('wasmvisor/node: the console as a Node stream', () => {
  it('pipes bytes in and the guest output out', async () => {
    const { consoleStream } = await import('../src/node.js');
    // the guest polls getchar and echoes every character
    const kernel = linuxImage((p) => {
      p.label('loop');
      sbi(p, 2, 0);
      p.i('blt', { rs1: R.a0, rs2: 0 }, 'loop');
      p.li(R.a7, 1).i('ecall');
      p.i('jal', { rd: 0 }, 'loop');
    });
    const m = await createMachine({ memory: '16M', kernel });
    const s = consoleStream(m);
    const chunks: Buffer[] = [];
    s.on('data', (b: Buffer) => {
      chunks.push(b);
      if (Buffer.concat(chunks).toString() === 'hello') m.stop();
    });
    s.write('hel');
    s.write('lo');
    const r = await m.run();
    expect(r.reason).toBe('stopped');
    expect(Buffer.concat(chunks).toString()).toBe('hello');
    s.destroy();
  });
});

// The decoded-instruction cache must never run stale code: stores over decoded
// instructions (same page, other page, compressed halves) and host writes invalidate it.
import { describe, it, expect } from 'vitest';
import { Core, Exit } from '../src/core.js';
import { encode } from '../src/isa/encode.js';
import { Program, R, RAM } from './helpers/program.js';

async function boot(p: Program) {
  const core = await Core.create(1 << 20);
  core.writeRam(RAM, p.assemble());
  core.reset(RAM);
  return core;
}

function poweroff(p: Program) {
  p.li(R.t0, 0x10_0000n).li(R.t1, 0x5555).i('sw', { rs1: R.t0, rs2: R.t1, imm: 0 });
}

describe('decoded-instruction cache', () => {
  it('a store over an already executed instruction takes effect the next time it runs', async () => {
    // `patch` runs twice; between the runs the program overwrites it with addi a0, a0, 100
    const p = new Program();
    p.li(R.a0, 0).li(R.s1, 2);
    p.label('again').label('patch').i('addi', { rd: R.a0, rs1: R.a0, imm: 1 });
    p.la(R.t0, 'patch').li(R.t1, encode('addi', { rd: R.a0, rs1: R.a0, imm: 100 })).i('sw', { rs1: R.t0, rs2: R.t1, imm: 0 });
    p.i('fence.i').i('addi', { rd: R.s1, rs1: R.s1, imm: -1 }).i('bne', { rs1: R.s1, rs2: 0 }, 'again');
    poweroff(p);
    const core = await boot(p);
    expect(core.run(10_000)).toBe(Exit.Poweroff);
    expect(core.x(R.a0)).toBe(101n);
  });

  it('a store of one byte changes the compressed instruction it overlaps', async () => {
    const p = new Program();
    p.li(R.a0, 0).li(R.s1, 2);
    p.label('again').label('patch').i('c.addi', { rd: R.a0, imm: 1 });
    // rewrite the immediate bits 6:2 of c.addi (imm 1 -> 5): byte 0 of the halfword
    p.la(R.t0, 'patch').li(R.t1, encode('c.addi', { rd: R.a0, imm: 5 }) & 0xff).i('sb', { rs1: R.t0, rs2: R.t1, imm: 0 });
    p.i('addi', { rd: R.s1, rs1: R.s1, imm: -1 }).i('bne', { rs1: R.s1, rs2: 0 }, 'again');
    poweroff(p);
    const core = await boot(p);
    expect(core.run(10_000)).toBe(Exit.Poweroff);
    expect(core.x(R.a0)).toBe(6n);
  });

  it('an AMO over code invalidates it too', async () => {
    const p = new Program();
    p.li(R.a0, 0).li(R.s1, 2);
    p.label('again').label('patch').i('addi', { rd: R.a0, rs1: R.a0, imm: 1 });
    p.la(R.t0, 'patch').li(R.t1, encode('addi', { rd: R.a0, rs1: R.a0, imm: 7 })).i('amoswap.w', { rd: 0, rs1: R.t0, rs2: R.t1 });
    p.i('addi', { rd: R.s1, rs1: R.s1, imm: -1 }).i('bne', { rs1: R.s1, rs2: 0 }, 'again');
    poweroff(p);
    const core = await boot(p);
    expect(core.run(10_000)).toBe(Exit.Poweroff);
    expect(core.x(R.a0)).toBe(8n);
  });

  it('a host write into RAM (loader, DMA) replaces decoded code', async () => {
    const p = new Program();
    p.label('top').i('addi', { rd: R.a0, rs1: R.a0, imm: 1 }).i('jal', { rd: 0 }, 'top');
    const core = await boot(p);
    core.run(1000);
    const before = core.x(R.a0);
    const w = new Uint8Array(4);
    new DataView(w.buffer).setUint32(0, encode('addi', { rd: R.a0, rs1: R.a0, imm: 3 }), true);
    core.writeRam(RAM, w);
    core.run(1000);
    expect(core.x(R.a0) - before).toBe(1500n); // 500 loop iterations of +3
  });

  it('keeps hot code while more cold pages than it holds pass through (clock replacement)', async () => {
    // a loop on one page calls a one-instruction function on each of COLD other pages
    const COLD = 2100; // twice the 1024 decoded pages the cache holds, and more
    const p = new Program();
    p.li(R.s1, COLD).li(R.s2, RAM + 0x1000n).li(R.t0, 0x1000);
    p.label('loop').i('jalr', { rd: R.ra, rs1: R.s2, imm: 0 }).i('add', { rd: R.s2, rs1: R.s2, rs2: R.t0 });
    p.i('addi', { rd: R.s1, rs1: R.s1, imm: -1 }).i('bne', { rs1: R.s1, rs2: 0 }, 'loop');
    poweroff(p);
    const core = await Core.create(16 << 20);
    core.writeRam(RAM, p.assemble());
    const ret = new Uint8Array(new Uint32Array([encode('jalr', { rd: 0, rs1: R.ra, imm: 0 })]).buffer);
    for (let i = 1; i <= COLD; i++) core.writeRam(RAM + BigInt(i) * 0x1000n, ret);
    core.reset(RAM);
    expect(core.run(100_000)).toBe(Exit.Poweroff);
    // every page decoded once: the loop's page, entered after each call, was never the victim
    // (first-in first-out evicts it, and decodes it again, every 1024 misses)
    expect(core.stats().icacheMisses).toBe(BigInt(COLD + 1));
  });
});

// The block compiler (src/jit/, assembly/hart/jit.ts): compiled code must leave the hart
// exactly as the interpreter does (registers, memory, pc, instructions retired, traps and
// their registers, interrupt timing), including its slow paths: TLB misses, MMIO, page
// crossings, faults in the middle of a region, code that rewrites itself.
import { describe, it, expect } from 'vitest';
import { Asm, R, Core, Exit, RAM, CSR, MTIME, MTIMECMP, UART, MS, PRV_S, IRQ, PTE, PageTables, TEST_DEV } from './isa/harness.js';
import { createMachine, ConfigError } from '../src/index.js';
import { WORKLOADS, buildImage, RAM_BYTES } from '../bench/workloads.js';

const { zero, ra, t0, t1, t2, a0, a1, a2, a3, a4, a5, s0, s1 } = R;

interface Outcome {
  exit: Exit;
  pc: bigint;
  x: bigint[];
  stats: Record<string, unknown>;
  trap: bigint[];
  ram: Uint8Array;
  jitRetired: bigint;
}

/** Run an image to its end with the interpreter only, or compiling every leader at once. */
async function runImage(prog: Asm | Uint8Array, jit: boolean, budget = 20_000_000, ram = 4 << 20): Promise<Outcome> {
  const core = await Core.create(ram);
  if (jit) core.enableJit({ threshold: 1, batch: 1 });
  core.writeRam(RAM, prog instanceof Asm ? prog.assemble() : prog);
  if (prog instanceof Asm) for (const [pa, b] of prog.pokes) core.writeRam(pa, b);
  core.reset(RAM);
  let exit: Exit;
  let left = budget;
  do {
    // short slices, so compiled code is entered from many states
    exit = core.run(Math.min(left, 7_919));
    left -= 7_919;
  } while (exit === Exit.Budget && left > 0);
  const s = core.stats();
  if (jit) expect(s.jit?.errors, s.jit?.lastError).toBe(0);
  return {
    exit, pc: core.pc, x: Array.from({ length: 32 }, (_, i) => core.x(i)),
    stats: { instret: s.instret, traps: s.traps, interrupts: s.interrupts, exc: s.exceptionsByCause, irq: s.interruptsByCause, mmioWrites: s.mmioWrites, tlbHits: s.tlbHits, tlbMisses: s.tlbMisses, pageWalks: s.pageWalks },
    trap: [CSR.mcause, CSR.mepc, CSR.mtval, CSR.scause, CSR.sepc, CSR.stval].map((c) => core.csr(c)),
    ram: core.ram(RAM, ram).slice(),
    jitRetired: s.jitRetired,
  };
}

/** The image gives the same outcome both ways, and compiled code did run. */
async function same(image: Asm | Uint8Array, budget?: number, ram?: number): Promise<Outcome> {
  const a = await runImage(image, false, budget, ram);
  const b = await runImage(image, true, budget, ram);
  expect(a.jitRetired).toBe(0n);
  expect(b.jitRetired, 'instructions retired in compiled code').toBeGreaterThan(0n);
  expect(b.exit).toBe(a.exit);
  expect(b.pc.toString(16)).toBe(a.pc.toString(16));
  expect(b.x.map((v) => v.toString(16))).toEqual(a.x.map((v) => v.toString(16)));
  expect(b.stats).toEqual(a.stats);
  expect(b.trap).toEqual(a.trap);
  expect(Buffer.compare(Buffer.from(b.ram), Buffer.from(a.ram)), 'RAM contents').toBe(0);
  return b;
}

/** xorshift64 in a loop: every compilable op on changing values, results folded into a sum and stored. */
export function aluProgram(): Asm {
  const p = new Asm();
  const ops3 = ['add', 'sub', 'sll', 'slt', 'sltu', 'xor', 'srl', 'sra', 'or', 'and', 'addw', 'subw', 'sllw', 'srlw', 'sraw',
    'mul', 'mulh', 'mulhsu', 'mulhu', 'mulw', 'div', 'divu', 'rem', 'remu', 'divw', 'divuw', 'remw', 'remuw'];
  const opsI: [string, number][] = [['addi', -1234], ['slti', -5], ['sltiu', 77], ['xori', -1], ['ori', 0x555], ['andi', 0x7f0],
    ['slli', 13], ['srli', 61], ['srai', 7], ['addiw', 2047], ['slliw', 31], ['srliw', 3], ['sraiw', 30]];
  p.li(s0, 0x9e37_79b9_7f4a_7c15n).li(s1, 0).li(a5, 300).la(a4, 'out');
  p.label('loop');
  // xorshift64: s0 ^= s0 << 13; s0 ^= s0 >> 7; s0 ^= s0 << 17
  p.i('slli', { rd: t0, rs1: s0, imm: 13 }).i('xor', { rd: s0, rs1: s0, rs2: t0 });
  p.i('srli', { rd: t0, rs1: s0, imm: 7 }).i('xor', { rd: s0, rs1: s0, rs2: t0 });
  p.i('slli', { rd: t0, rs1: s0, imm: 17 }).i('xor', { rd: s0, rs1: s0, rs2: t0 });
  // operands with edge values mixed in: 0, -1, the most negative, small
  p.i('srai', { rd: a0, rs1: s0, imm: 3 }).i('andi', { rd: a1, rs1: s0, imm: 3 });
  p.i('addi', { rd: a1, rs1: a1, imm: -1 }); // -1, 0, 1, 2: division by zero and -1 covered
  p.li(a3, 0x8000_0000_0000_0000n).i('andi', { rd: t1, rs1: s0, imm: 64 });
  p.i('beq', { rs1: t1, rs2: zero }, 'keep').i('addi', { rd: a0, rs1: a3, imm: 0 }).label('keep');
  for (const op of ops3) p.i(op, { rd: a2, rs1: a0, rs2: a1 }).i('add', { rd: s1, rs1: s1, rs2: a2 }).i('xor', { rd: s1, rs1: s1, rs2: a0 });
  for (const op of ops3) p.i(op, { rd: a2, rs1: s0, rs2: a0 }).i('add', { rd: s1, rs1: s1, rs2: a2 });
  for (const [op, imm] of opsI) p.i(op, { rd: a2, rs1: a0, imm }).i('add', { rd: s1, rs1: s1, rs2: a2 });
  p.i('lui', { rd: a2, imm: 0x12345 << 12 }).i('add', { rd: s1, rs1: s1, rs2: a2 });
  p.i('auipc', { rd: a2, imm: 0 }).i('sub', { rd: s1, rs1: s1, rs2: a2 });
  p.i('sd', { rs1: a4, rs2: s1, imm: 0 }).i('addi', { rd: a4, rs1: a4, imm: 8 });
  p.i('addi', { rd: a5, rs1: a5, imm: -1 }).i('bne', { rs1: a5, rs2: zero }, 'loop');
  p.halt().align(8).label('out').bytes(new Uint8Array(8 * 300));
  return p;
}


/** M-mode timer handler at 'handler': count in a5, re-arm mtimecmp `step` ticks later, halt after `times`. */
function timerHandler(p: Asm, step: number, times: number): void {
  p.label('handler').i('addi', { rd: a5, rs1: a5, imm: 1 }).li(t0, MTIMECMP).i('ld', { rd: t1, rs1: t0, imm: 0 });
  p.i('addi', { rd: t1, rs1: t1, imm: step }).i('sd', { rs1: t0, rs2: t1, imm: 0 });
  p.li(t2, times).i('beq', { rs1: a5, rs2: t2 }, 'done').i('mret');
  p.label('done').halt();
}
describe('JIT: compiled regions match the interpreter', () => {
  it('integer ALU and M: every op on pseudo-random and edge operands', async () => {
    const r = await same(aluProgram().assemble());
    expect(r.exit).toBe(Exit.Poweroff);
  });

  it('loads and stores of every width: sign extension, misaligned, crossing pages, x0 as the target', async () => {
    const p = new Asm();
    // s0 walks the buffer's first page, a3 = s0 + 2048 reaches across into the second
    p.li(a5, 50).la(s0, 'buf').li(s1, 0);
    p.label('loop').i('addi', { rd: a3, rs1: s0, imm: 2047 }).i('addi', { rd: a3, rs1: a3, imm: 1 });
    for (const [ld, base, off] of [['lb', s0, 3], ['lh', s0, 5], ['lw', s0, 7], ['ld', s0, 9], ['lbu', a3, 2047], ['lhu', a3, 2047], ['lwu', a3, 2046], ['ld', a3, 2045]] as const) {
      p.i(ld, { rd: a0, rs1: base, imm: off }).i('add', { rd: s1, rs1: s1, rs2: a0 });
    }
    p.i('ld', { rd: zero, rs1: s0, imm: 0 });
    for (const [st, base, off] of [['sb', s0, 100], ['sh', s0, 201], ['sw', a3, 2046], ['sd', a3, 2044], ['sd', s0, 303]] as const) {
      p.i(st, { rs1: base, rs2: s1, imm: off });
    }
    p.i('addi', { rd: s1, rs1: s1, imm: 0x123 }).i('addi', { rd: s0, rs1: s0, imm: 8 });
    p.i('addi', { rd: a5, rs1: a5, imm: -1 }).i('bne', { rs1: a5, rs2: zero }, 'loop');
    p.halt().align(4096).label('buf');
    const fill = new Uint8Array(8192);
    for (let i = 0; i < fill.length; i++) fill[i] = (i * 151 + 7) & 0xff;
    p.bytes(fill);
    await same(p.assemble());
  });

  it('a store to the console UART inside a compiled loop (MMIO: the region leaves, the interpreter stores) and the output it makes', async () => {
    const p = new Asm();
    p.li(s0, UART).li(a5, 40).li(a0, 0x41);
    p.label('loop').i('addi', { rd: a5, rs1: a5, imm: -1 }).i('sb', { rs1: s0, rs2: a0, imm: 0 }).i('addi', { rd: a0, rs1: a0, imm: 1 });
    p.i('andi', { rd: a0, rs1: a0, imm: 0x7f }).i('ori', { rd: a0, rs1: a0, imm: 0x40 });
    p.i('bne', { rs1: a5, rs2: zero }, 'loop').halt();
    await same(p.assemble());
  });

  it('a region whose first instruction misses the TLB every time: the run loop interprets it, no livelock', async () => {
    const p = new Asm();
    p.li(s0, UART).li(a5, 40).li(a0, 0x41);
    p.label('loop').i('sb', { rs1: s0, rs2: a0, imm: 0 }).i('addi', { rd: a0, rs1: a0, imm: 1 });
    p.i('andi', { rd: a0, rs1: a0, imm: 0x7f }).i('ori', { rd: a0, rs1: a0, imm: 0x40 });
    p.i('addi', { rd: a5, rs1: a5, imm: -1 }).i('bne', { rs1: a5, rs2: zero }, 'loop').halt();
    const a = await runImage(p.assemble(), false);
    const b = await runImage(p.assemble(), true);
    expect(b.exit).toBe(Exit.Poweroff);
    expect(b.x).toEqual(a.x);
    expect(b.stats).toEqual(a.stats);
  });

  it('an access fault in the middle of a compiled loop: same mepc, mtval, instructions retired', async () => {
    const p = new Asm();
    // walks a pointer up from RAM's end - 64: the 9th load leaves RAM
    p.li(s0, RAM + BigInt(4 << 20) - 64n).li(s1, 0);
    p.label('loop').i('addi', { rd: s1, rs1: s1, imm: 1 }).i('ld', { rd: a0, rs1: s0, imm: 0 });
    p.i('add', { rd: s1, rs1: s1, rs2: a0 }).i('addi', { rd: s0, rs1: s0, imm: 8 }).j('loop');
    const r = await same(p.assemble());
    expect(r.exit).toBe(Exit.Fail);
    expect(r.trap[0]).toBe(5n); // load access fault
    expect(r.trap[2]).toBe(RAM + BigInt(4 << 20));
  });

  it('page faults under Sv39 in S-mode, handled and retried, inside compiled code', async () => {
    const p = new Asm();
    const pt = new PageTables(p, 3, RAM + 0x20_0000n);
    pt.map(RAM, RAM, PTE.V | PTE.R | PTE.W | PTE.X | PTE.A | PTE.D, 1); // code: a megapage
    // data: 16 pages mapped, then a hole: the first store past them page-faults
    for (let k = 0n; k < 16n; k++) pt.map(0x4000_0000n + k * 4096n, RAM + 0x30_0000n + k * 4096n, PTE.V | PTE.R | PTE.W | PTE.A | PTE.D);
    pt.map(TEST_DEV, TEST_DEV, PTE.V | PTE.R | PTE.W | PTE.A | PTE.D); // so the S-mode handler can power off
    p.openPmp().csrwv(CSR.satp, pt.satp);
    p.la(t0, 'strap').csrw(CSR.stvec, t0).csrwv(CSR.medeleg, 1n << 13n | 1n << 15n);
    p.enter(PRV_S, 'smain');
    p.label('smain').li(s0, 0x4000_0000n).li(a5, 3000).li(s1, 0);
    p.label('loop').i('sd', { rs1: s0, rs2: a5, imm: 0 }).i('ld', { rd: a0, rs1: s0, imm: 0 }).i('add', { rd: s1, rs1: s1, rs2: a0 });
    p.i('addi', { rd: s0, rs1: s0, imm: 40 }).i('addi', { rd: a5, rs1: a5, imm: -1 }).i('bne', { rs1: a5, rs2: zero }, 'loop');
    p.i('ecall');
    // S-mode handler: count the fault, then power off (a page fault past the mapped pages ends the run)
    p.label('strap').i('addi', { rd: s1, rs1: s1, imm: 1000 }).halt();
    const r = await same(p, 5_000_000, 8 << 20);
    expect(r.exit).toBe(Exit.Poweroff);
    expect(r.trap[3]).toBe(15n); // the store faulted first, in S-mode
  });

  it('code that rewrites an instruction of its own loop, and of a compiled region elsewhere', async () => {
    const p = new Asm();
    // patch: the addi at 'slot' gets a new immediate each iteration (bits 31:20)
    p.la(s0, 'slot').li(a5, 64).li(s1, 0).li(a1, 1);
    p.label('loop').label('slot').i('addi', { rd: a0, rs1: zero, imm: 1 });
    p.i('add', { rd: s1, rs1: s1, rs2: a0 });
    p.i('lw', { rd: t0, rs1: s0, imm: 0 }).li(t1, 0x10_0000).i('add', { rd: t0, rs1: t0, rs2: t1 }).i('sw', { rs1: s0, rs2: t0, imm: 0 });
    p.i('jal', { rd: ra }, 'far').i('add', { rd: s1, rs1: s1, rs2: a2 });
    p.i('addi', { rd: a5, rs1: a5, imm: -1 }).i('bne', { rs1: a5, rs2: zero }, 'loop').halt();
    // 'far' (another page) is compiled, then patched from here: addi a2, zero, k
    p.align(4096).label('far').label('farslot').i('addi', { rd: a2, rs1: zero, imm: 3 }).i('jalr', { rd: zero, rs1: ra, imm: 0 });
    const q = await same(p.assemble());
    // the sum shows the rewritten immediates were seen: 64 iterations of 1..64 plus 64*3
    expect(q.x[s1]).toBe(BigInt((64 * 65) / 2 + 64 * 3));
  });

  it('CSR, A, F and D instructions between compiled code: minstret and time read exactly, AMOs on a code page', async () => {
    const p = new Asm();
    p.fpOn().la(s0, 'cell').li(a5, 200).li(s1, 0).li(a1, 3);
    p.label('loop');
    p.csrr(a0, CSR.minstret).i('add', { rd: s1, rs1: s1, rs2: a0 });
    p.csrr(a0, CSR.mcycle).i('xor', { rd: s1, rs1: s1, rs2: a0 });
    p.i('csrrs', { rd: a0, rs1: zero, csr: 0xc01 }).i('add', { rd: s1, rs1: s1, rs2: a0 }); // time
    p.i('amoadd.d', { rd: a0, rs1: s0, rs2: a1 }).i('add', { rd: s1, rs1: s1, rs2: a0 });
    p.i('amoswap.w', { rd: a2, rs1: s0, rs2: s1 }).i('add', { rd: s1, rs1: s1, rs2: a2 });
    p.i('lr.d', { rd: a0, rs1: s0 }).i('addi', { rd: a0, rs1: a0, imm: 5 }).i('sc.d', { rd: a2, rs1: s0, rs2: a0 });
    p.i('add', { rd: s1, rs1: s1, rs2: a2 });
    p.i('fcvt.d.l', { frd: 1, rs1: s1, rm: 7 }).i('fadd.d', { frd: 2, frs1: 2, frs2: 1, rm: 7 }).i('fmul.d', { frd: 3, frs1: 2, frs2: 2, rm: 7 });
    p.i('fcvt.l.d', { rd: a0, frs1: 3, rm: 1 }).i('xor', { rd: s1, rs1: s1, rs2: a0 });
    p.i('fsd', { rs1: s0, frs2: 3, imm: 8 }).i('fld', { frd: 4, rs1: s0, imm: 8 }).i('feq.d', { rd: a0, frs1: 3, frs2: 4 });
    p.i('add', { rd: s1, rs1: s1, rs2: a0 }).csrr(a0, CSR.fflags).i('add', { rd: s1, rs1: s1, rs2: a0 });
    p.i('addi', { rd: a5, rs1: a5, imm: -1 }).i('bne', { rs1: a5, rs2: zero }, 'loop').halt();
    p.align(8).label('cell').dword(7n).dword(0n);
    const r = await same(p);
    expect(r.exit).toBe(Exit.Poweroff);
  });

  it('timer interrupts arrive at the same instruction (the budget before stopAt is exact)', async () => {
    const p = new Asm();
    p.la(t0, 'handler').csrw(CSR.mtvec, t0);
    p.li(t0, MTIMECMP).li(t1, 500).i('sd', { rs1: t0, rs2: t1, imm: 0 });
    p.csrwv(CSR.mie, 1 << IRQ.MTI).csrsv(CSR.mstatus, MS.MIE);
    p.li(s1, 0).li(a5, 0);
    p.label('spin').i('addi', { rd: s1, rs1: s1, imm: 1 }).i('xor', { rd: a0, rs1: a0, rs2: s1 }).j('spin');
    timerHandler(p, 733, 20);
    const r = await same(p.assemble());
    expect(r.exit).toBe(Exit.Poweroff);
    expect(r.x[a5]).toBe(20n);
  });

  it('timer interrupts in a region without backward jumps (called only when its longest path fits)', async () => {
    const p = new Asm();
    p.la(t0, 'handler').csrw(CSR.mtvec, t0);
    p.li(t0, MTIMECMP).li(t1, 300).i('sd', { rs1: t0, rs2: t1, imm: 0 });
    p.csrwv(CSR.mie, 1 << IRQ.MTI).csrsv(CSR.mstatus, MS.MIE);
    p.li(s1, 0).li(a5, 0).la(s0, 'body');
    // the loop closes through JALR: the region of 'body' has no backward jump
    p.label('body').i('addi', { rd: s1, rs1: s1, imm: 1 }).i('andi', { rd: t1, rs1: s1, imm: 3 });
    p.i('beq', { rs1: t1, rs2: zero }, 'even');
    for (let k = 0; k < 9; k++) p.i('xor', { rd: a0, rs1: a0, rs2: s1 }).i('addi', { rd: a1, rs1: a1, imm: k });
    p.label('even');
    for (let k = 0; k < 5; k++) p.i('add', { rd: a2, rs1: a2, rs2: s1 });
    p.i('jalr', { rd: zero, rs1: s0, imm: 0 });
    timerHandler(p, 577, 30);
    const r = await same(p.assemble());
    expect(r.exit).toBe(Exit.Poweroff);
    expect(r.x[a5]).toBe(30n);
  });

  it('an MMIO read of mtime in the middle of compiled code sees the instructions retired before it', async () => {
    const p = new Asm();
    // mtime ticks every 10 instructions: the loads land on every phase of a tick
    p.li(t0, MTIME).li(s1, 0).li(a5, 3000).la(a4, 'out');
    p.label('loop').i('addi', { rd: s1, rs1: s1, imm: 3 }).i('ld', { rd: a0, rs1: t0, imm: 0 });
    p.i('slli', { rd: s1, rs1: s1, imm: 1 }).i('xor', { rd: s1, rs1: s1, rs2: a0 }).i('lw', { rd: a1, rs1: t0, imm: 0 });
    p.i('add', { rd: s1, rs1: s1, rs2: a1 }).i('andi', { rd: t1, rs1: a0, imm: 7 });
    p.i('bne', { rs1: t1, rs2: zero }, 'skip').i('sd', { rs1: a4, rs2: a0, imm: 0 }).i('addi', { rd: a4, rs1: a4, imm: 8 });
    p.label('skip').i('addi', { rd: a5, rs1: a5, imm: -1 }).i('bne', { rs1: a5, rs2: zero }, 'loop');
    p.halt().align(8).label('out').bytes(new Uint8Array(8 * 3000));
    const r = await same(p.assemble());
    expect(r.exit).toBe(Exit.Poweroff);
  });

  for (const name of Object.keys(WORKLOADS)) {
    it(`bench workload "${name}" (Sv39 in S-mode)`, async () => {
      const r = await same(buildImage(name, 3), 50_000_000, Number(RAM_BYTES));
      expect(r.exit).toBe(Exit.Poweroff);
    });
  }
});

describe('JIT: configuration and control', () => {
  it('machines compile by default; jit: false runs the interpreter only', async () => {
    const kernel = aluProgram().assemble();
    expect((await createMachine({ memory: '16M', kernel })).stats().jit).toBeDefined();
    expect((await createMachine({ memory: '16M', kernel, jit: false })).stats().jit).toBeUndefined();
  });

  it('rejects a bad threshold or batch with a ConfigError', async () => {
    const kernel = aluProgram().assemble();
    await expect(createMachine({ memory: '16M', kernel, jit: { threshold: 0 } })).rejects.toThrow(ConfigError);
    await expect(createMachine({ memory: '16M', kernel, jit: { batch: 100_000 } })).rejects.toThrow(/batch/);
  });

  it('disable() stops calling compiled code, and the interpreter finishes the same', async () => {
    const image = aluProgram().assemble();
    const ref = await runImage(image, false);
    const core = await Core.create(4 << 20);
    const jit = core.enableJit({ threshold: 1, batch: 1 });
    core.writeRam(RAM, image);
    core.reset(RAM);
    expect(core.run(20_000)).toBe(Exit.Budget);
    expect(jit.stats.blocks).toBeGreaterThan(0);
    const before = core.stats().jitRetired;
    expect(before).toBeGreaterThan(0n);
    jit.disable();
    let e: Exit;
    do e = core.run(1_000_000); while (e === Exit.Budget);
    expect(core.stats().jitRetired).toBe(before);
    expect(core.x(s1)).toBe(ref.x[s1]);
    expect(core.stats().instret).toBe(ref.stats.instret);
  });

  it('flush() drops every compiled region and the table is reused', async () => {
    const core = await Core.create(4 << 20);
    const jit = core.enableJit({ threshold: 1, batch: 1, maxBlocks: 2 });
    core.writeRam(RAM, aluProgram().assemble());
    core.reset(RAM);
    let e: Exit;
    do e = core.run(100_000); while (e === Exit.Budget);
    expect(e).toBe(Exit.Poweroff);
    expect(jit.stats.errors).toBe(0);
    expect(core.stats().jitRetired).toBeGreaterThan(0n);
    // the table was reused, and the regions compiled when it filled were still installed
    expect(jit.stats.flushes).toBeGreaterThan(0);
    expect(jit.stats.blocks).toBeGreaterThan(2);
  });
});

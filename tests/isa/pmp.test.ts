// Physical memory protection (privileged spec 3.7): S/U accesses need a matching entry;
// NAPOT, TOR and NA4 ranges; lowest entry wins and must cover every byte; R/W/X; locked
// entries bind M-mode and ignore writes; MPRV applies the PMP at MPP's privilege.
import { describe, it, expect } from 'vitest';
import { Asm, R, RAM, CSR, MS, PRV_S, PRV_U, run, expectHalt, expectTrap } from './harness.js';

const { a0, a1, a2, s0, t0, t1 } = R;
const CODE_NAPOT = (RAM >> 2n) | ((0x1_0000n >> 3n) - 1n); // RAM .. RAM+64 KiB
const DATA = RAM + 0x1_0000n; // the 4 KiB page right after it
const napot = (base: bigint, size: bigint) => (base >> 2n) | ((size >> 3n) - 1n);
const A_TOR = 0x08, A_NA4 = 0x10, A_NAPOT = 0x18, PR = 1, PW = 2, PX = 4, L = 0x80;

/** Program PMP entries [pmpaddr, cfg byte] (entries 0..7, through pmpcfg0). */
function pmp(p: Asm, entries: [bigint, number][]): Asm {
  entries.forEach(([addr], i) => p.csrwv(CSR.pmpaddr0 + i, addr));
  const cfg = entries.reduce((v, [, c], i) => v | (BigInt(c) << BigInt(8 * i)), 0n);
  return p.csrwv(CSR.pmpcfg0, cfg);
}

/** S (or U) runs `body` then ecall; ends in the default handler (cause 9/8 = reached the end). */
function lowProgram(prv: number, entries: [bigint, number][], body: (p: Asm) => void): Asm {
  const p = new Asm();
  pmp(p, entries);
  p.li(s0, DATA).li(a0, 0x55);
  p.enter(prv, 'low');
  p.label('low');
  body(p);
  p.label('end').i('ecall');
  return p;
}
const CODE_ENTRY: [bigint, number] = [CODE_NAPOT, A_NAPOT | PR | PW | PX];

describe('PMP: S and U need a matching entry', () => {
  it.each([PRV_S, PRV_U])('with no entry active, privilege %i cannot even fetch', async (prv) => {
    const p = new Asm();
    p.enter(prv, 'low');
    p.label('low').li(a0, 1).halt();
    const r = await run(p);
    expectTrap(r, { cause: 1, epc: r.addr('low'), tval: r.addr('low') });
  });
  it('an access outside every entry fails (load 5, store 7, fetch 1), mtval = the address', async () => {
    for (const [kind, cause] of [['ld', 5], ['sd', 7], ['jalr', 1]] as const) {
      const p = lowProgram(PRV_S, [CODE_ENTRY], (q) => {
        q.label('bad');
        if (kind === 'ld') q.i('ld', { rd: a0, rs1: s0, imm: 8 });
        else if (kind === 'sd') q.i('sd', { rs1: s0, rs2: a0, imm: 8 });
        else q.i('jalr', { rd: 0, rs1: s0, imm: 8 });
      });
      const r = await run(p);
      const epc = kind === 'jalr' ? DATA + 8n : r.addr('bad');
      expectTrap(r, { cause, epc, tval: DATA + 8n });
    }
  });
});

describe('PMP: ranges and permissions', () => {
  it('NAPOT, read-only: loads work, stores and fetches fail', async () => {
    const entries: [bigint, number][] = [CODE_ENTRY, [napot(DATA, 0x1000n), A_NAPOT | PR]];
    let r = await run(lowProgram(PRV_U, entries, (q) => q.i('ld', { rd: a1, rs1: s0, imm: 0x7f8 })), {
      before: (c) => c.writeRam(DATA + 0x7f8n, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])),
    });
    expectTrap(r, { cause: 8, epc: r.addr('end') });
    expect(r.x(a1)).toBe(0x0807_0605_0403_0201n);
    r = await run(lowProgram(PRV_U, entries, (q) => q.label('bad').i('sw', { rs1: s0, rs2: a0, imm: 0 })));
    expectTrap(r, { cause: 7, epc: r.addr('bad'), tval: DATA });
    r = await run(lowProgram(PRV_U, entries, (q) => q.i('jalr', { rd: 0, rs1: s0, imm: 0 })));
    expectTrap(r, { cause: 1, epc: DATA, tval: DATA });
  });
  it('NAPOT, execute-only: fetch works, loads fail', async () => {
    const entries: [bigint, number][] = [CODE_ENTRY, [napot(DATA, 0x1000n), A_NAPOT | PX]];
    const ecall = new Uint8Array([0x73, 0, 0, 0]);
    let r = await run(lowProgram(PRV_S, entries, (q) => q.i('jalr', { rd: 0, rs1: s0, imm: 0x10 })), {
      before: (c) => c.writeRam(DATA + 0x10n, ecall),
    });
    expectTrap(r, { cause: 9, epc: DATA + 0x10n });
    r = await run(lowProgram(PRV_S, entries, (q) => q.label('bad').i('lw', { rd: a1, rs1: s0, imm: 0x10 })));
    expectTrap(r, { cause: 5, epc: r.addr('bad'), tval: DATA + 0x10n });
  });
  it('TOR: entry i covers [pmpaddr[i-1] << 2, pmpaddr[i] << 2), entry 0 from address 0', async () => {
    const entries: [bigint, number][] = [[DATA >> 2n, A_TOR | PR | PW | PX], [(DATA + 0x1000n) >> 2n, A_TOR | PR]];
    let r = await run(lowProgram(PRV_S, entries, (q) => q.i('ld', { rd: a1, rs1: s0, imm: 0x7f8 }).i('lb', { rd: a2, rs1: s0, imm: 0 })));
    expectTrap(r, { cause: 9, epc: r.addr('end') });
    r = await run(lowProgram(PRV_S, entries, (q) => q.label('bad').i('sd', { rs1: s0, rs2: a0, imm: 0x7f8 })));
    expectTrap(r, { cause: 7, epc: r.addr('bad'), tval: DATA + 0x7f8n });
    r = await run(lowProgram(PRV_S, entries, (q) => q.li(t0, 0x1000).i('add', { rd: t0, rs1: t0, rs2: s0 }).label('bad').i('lbu', { rd: a1, rs1: t0, imm: 0 })));
    expectTrap(r, { cause: 5, epc: r.addr('bad'), tval: DATA + 0x1000n });
  });
  it('NA4: exactly 4 bytes; an access only partly inside fails', async () => {
    const entries: [bigint, number][] = [CODE_ENTRY, [(DATA + 8n) >> 2n, A_NA4 | PR]];
    let r = await run(lowProgram(PRV_S, entries, (q) => q.i('lw', { rd: a1, rs1: s0, imm: 8 }).i('lh', { rd: a2, rs1: s0, imm: 10 })), {
      before: (c) => c.writeRam(DATA + 8n, new Uint8Array([0x11, 0x22, 0x33, 0x44])),
    });
    expectTrap(r, { cause: 9, epc: r.addr('end') });
    expect(r.x(a1)).toBe(0x4433_2211n);
    expect(r.x(a2)).toBe(0x4433n);
    for (const [name, off] of [['lw', 12], ['lw', 4], ['ld', 8], ['lw', 10], ['lh', 7]] as const) {
      r = await run(lowProgram(PRV_S, entries, (q) => q.label('bad').i(name, { rd: a1, rs1: s0, imm: off })));
      expectTrap(r, { cause: 5, epc: r.addr('bad') });
    }
  });
  it('the lowest-numbered matching entry decides, even if a later one would allow the access', async () => {
    const entries: [bigint, number][] = [[napot(DATA, 0x1000n), A_NAPOT], [-1n, A_NAPOT | PR | PW | PX]];
    let r = await run(lowProgram(PRV_S, entries, (q) => q.label('bad').i('ld', { rd: a1, rs1: s0, imm: 0 })));
    expectTrap(r, { cause: 5, epc: r.addr('bad'), tval: DATA });
    r = await run(lowProgram(PRV_S, entries, (q) => q.i('ld', { rd: a1, rs1: s0, imm: -8 })));
    expectTrap(r, { cause: 9, epc: r.addr('end') });
  });
  it('M-mode ignores unlocked entries', async () => {
    const p = new Asm();
    pmp(p, [[napot(DATA, 0x1000n), A_NAPOT]]);
    p.li(s0, DATA).li(a0, 7).i('sd', { rs1: s0, rs2: a0, imm: 0 }).i('ld', { rd: a1, rs1: s0, imm: 0 }).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a1)).toBe(7n);
  });
  it('a PMP change applies to the next access (no stale permission survives)', async () => {
    const p = new Asm();
    pmp(p, [CODE_ENTRY, [napot(DATA, 0x1000n), A_NAPOT | PR | PW]]);
    p.la(t0, 'mtrap').csrw(CSR.mtvec, t0).li(s0, DATA).li(a2, 0).enter(PRV_S, 'sup');
    p.label('sup').i('ld', { rd: a1, rs1: s0, imm: 0 }).i('sd', { rs1: s0, rs2: a1, imm: 0 }).i('ecall');
    p.label('again').label('bad').i('sd', { rs1: s0, rs2: a1, imm: 0 }).i('ecall');
    // first ecall: make the data page read-only, return to S after the ecall
    p.align(4).label('mtrap').i('bne', { rs1: a2, rs2: 0 }, '__trap').li(a2, 1);
    p.csrcv(CSR.pmpcfg0, BigInt(PW) << 8n).csrr(t1, CSR.mepc).i('addi', { rd: t1, rs1: t1, imm: 4 }).csrw(CSR.mepc, t1);
    p.csrsv(CSR.mstatus, 1n << 11n).i('mret');
    const r = await run(p);
    expectTrap(r, { cause: 7, epc: r.addr('bad'), tval: DATA });
  });
});

describe('PMP: locking', () => {
  it('a locked entry binds M-mode too', async () => {
    const p = new Asm();
    pmp(p, [[napot(DATA, 0x1000n), L | A_NAPOT | PR]]);
    p.li(s0, DATA).i('ld', { rd: a1, rs1: s0, imm: 0 }).label('bad').i('sd', { rs1: s0, rs2: a1, imm: 0 }).halt();
    const r = await run(p);
    expectTrap(r, { cause: 7, epc: r.addr('bad'), tval: DATA });
  });
  it('writes to a locked pmpcfg byte and its pmpaddr are ignored (others still change)', async () => {
    const p = new Asm();
    pmp(p, [[napot(DATA, 0x1000n), L | A_NAPOT | PR], [0x1234n, 0]]);
    p.csrwv(CSR.pmpcfg0, 0x1f_1f).csrwv(CSR.pmpaddr0, 0).csrwv(CSR.pmpaddr1, 0x5678);
    p.csrr(a0, CSR.pmpcfg0).csrr(a1, CSR.pmpaddr0).csrr(a2, CSR.pmpaddr1).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe(0x1f_99n);
    expect(r.x(a1)).toBe(napot(DATA, 0x1000n));
    expect(r.x(a2)).toBe(0x5678n);
  });
  it('a locked TOR entry also locks the pmpaddr below it', async () => {
    const p = new Asm();
    pmp(p, [[DATA >> 2n, 0], [(DATA + 0x1000n) >> 2n, L | A_TOR | PR]]);
    p.csrwv(CSR.pmpaddr0, 0x42).csrr(a0, CSR.pmpaddr0);
    p.li(s0, DATA).label('bad').i('sb', { rs1: s0, rs2: 0, imm: 0x10 }).halt();
    const r = await run(p);
    expectTrap(r, { cause: 7, epc: r.addr('bad'), tval: DATA + 0x10n });
    expect(r.x(a0)).toBe(DATA >> 2n);
  });
});

describe('PMP: CSR fields and MPRV', () => {
  it('pmpaddr holds bits 55:2 of the address; R=0 W=1 is never kept', async () => {
    const p = new Asm();
    p.csrwv(CSR.pmpaddr3, -1).csrr(a0, CSR.pmpaddr3);
    p.csrwv(CSR.pmpcfg0, 0x02n << 24n).csrr(a1, CSR.pmpcfg0).halt();
    const r = await run(p);
    expectHalt(r);
    expect(r.x(a0)).toBe((1n << 54n) - 1n);
    expect((r.x(a1) >> 24n) & 3n).not.toBe(2n);
  });
  it('with MPRV = 1, M-mode loads and stores are checked at MPP\'s privilege; fetches are not', async () => {
    const p = new Asm();
    pmp(p, [CODE_ENTRY]);
    p.li(s0, DATA).csrsv(CSR.mstatus, MS.MPRV | (1n << 11n)).li(a2, 1);
    p.label('bad').i('ld', { rd: a1, rs1: s0, imm: 0 }).halt();
    const r = await run(p);
    expectTrap(r, { cause: 5, epc: r.addr('bad'), tval: DATA });
    expect(r.x(a2)).toBe(1n);
  });
});

// Page-based virtual memory (privileged spec 4.1.11 satp, 4.2 SFENCE.VMA, 4.3 Sv32 rules as
// used by 4.4 Sv39 and 4.5 Sv48): translation, superpages, permissions (U, SUM, MXR), A/D,
// canonical addresses, fences, MPRV, fault causes and tval. Page tables are built in RAM here.
import { describe, it, expect } from 'vitest';
import { Asm, R, RAM, CSR, MS, PTE, PageTables, PRV_S, PRV_U, run, expectHalt, expectTrap } from './harness.js';

const { a0, a1, a2, a3, s0, s1, t0, t1 } = R;
const PT_POOL = RAM + 0x10_0000n;
const PA_A = RAM + 0x2_0000n;
const PA_B = RAM + 0x2_1000n;
const PA_C = RAM + 0x2_2000n;
const SUPER_PA = RAM + 0x20_0000n; // 2 MiB aligned, inside the 4 MiB of RAM
const VA = 0x4000_0000n;
const { V, R: PR, W: PW, X: PX, U: PU, A: PA, D: PD } = PTE;
const RWX = V | PR | PW | PX | PA | PD;
const RW = V | PR | PW | PA | PD;

interface Opts {
  levels?: 3 | 4;
  prv?: number;
  /** flags of the identity gigapage holding code, page tables and data (0n: none) */
  code?: bigint;
  mstatus?: bigint;
  /** more M-mode setup before entering */
  setup?: (p: Asm) => void;
}

/** S (or U) code with translation on: `map` builds the tables, `body` runs, then ecall. */
function vm(map: (pt: PageTables, p: Asm) => void, body: (p: Asm) => void, o: Opts = {}) {
  const p = new Asm();
  const pt = new PageTables(p, o.levels ?? 3, PT_POOL);
  const code = o.code ?? (o.prv === PRV_U ? RWX | PU : RWX);
  if (code) pt.map(RAM, RAM, code, 2);
  map(pt, p);
  p.openPmp().csrwv(CSR.satp, pt.satp);
  if (o.mstatus) p.csrsv(CSR.mstatus, o.mstatus);
  o.setup?.(p);
  p.enter(o.prv ?? PRV_S, 'low');
  p.label('low');
  body(p);
  p.label('end').i('ecall');
  return { p, pt };
}
/** The run reached the ecall at `end`. */
function expectEnd(r: Awaited<ReturnType<typeof run>>, prv = PRV_S) {
  expectTrap(r, { cause: prv === PRV_U ? 8 : 9, epc: r.addr('end') });
}
const bytes64 = (v: bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
};

describe('Sv39 translation', () => {
  it('4 KiB pages: loads and stores reach the mapped frames; two pages may alias one frame', async () => {
    const { p } = vm((pt) => {
      pt.map(VA, PA_A, RW);
      pt.map(VA + 0x1000n, PA_A, RW);
      pt.map(VA + 0x20_0000n, PA_B, RW); // another leaf table
    }, (q) => {
      q.li(s0, VA).i('ld', { rd: a0, rs1: s0, imm: 8 }).li(a1, 0x1234).i('sd', { rs1: s0, rs2: a1, imm: 16 });
      q.li(s1, VA + 0x1000n).i('ld', { rd: a2, rs1: s1, imm: 16 });
      q.li(t0, VA + 0x20_0000n).i('ld', { rd: a3, rs1: t0, imm: 0 });
    });
    p.poke64(PA_A + 8n, 0xaaaa_5555n).poke64(PA_B, 0xbbbbn);
    const r = await run(p);
    expectEnd(r);
    expect(r.x(a0)).toBe(0xaaaa_5555n);
    expect(r.read64(PA_A + 16n)).toBe(0x1234n);
    expect(r.x(a2)).toBe(0x1234n);
    expect(r.x(a3)).toBe(0xbbbbn);
  });
  it('instruction fetch is translated too', async () => {
    const { p } = vm((pt) => pt.map(VA, PA_C, V | PR | PX | PA), (q) => {
      q.li(t0, VA).i('jalr', { rd: R.ra, rs1: t0, imm: 0 });
    });
    // at PA_C: addi a0, x0, 42; ecall
    p.pokes.push([PA_C, new Uint8Array([0x13, 0x05, 0xa0, 0x02, 0x73, 0, 0, 0])]);
    const r = await run(p);
    expectTrap(r, { cause: 9, epc: VA + 4n });
    expect(r.x(a0)).toBe(42n);
  });
  it('2 MiB and 1 GiB superpages map the low VA bits straight through', async () => {
    const { p } = vm((pt) => {
      pt.map(VA + 0x20_0000n, SUPER_PA, RW, 1);
      pt.map(0xc000_0000n, RAM, RW, 2);
    }, (q) => {
      q.li(s0, VA + 0x20_0000n + 0x1_2340n).i('ld', { rd: a0, rs1: s0, imm: 0 });
      q.li(s1, 0xc000_0000n + 0x2_0008n).i('ld', { rd: a1, rs1: s1, imm: 0 });
      q.li(t0, 0x55).i('sd', { rs1: s0, rs2: t0, imm: 8 });
    });
    p.poke64(SUPER_PA + 0x1_2340n, 0x2222n).poke64(RAM + 0x2_0008n, 0x1111n);
    const r = await run(p);
    expectEnd(r);
    expect(r.x(a0)).toBe(0x2222n);
    expect(r.x(a1)).toBe(0x1111n);
    expect(r.read64(SUPER_PA + 0x1_2348n)).toBe(0x55n);
  });
  it.each([
    ['2 MiB page with PPN[0] != 0, load', 1, SUPER_PA + 0x1000n, 'ld', 13],
    ['2 MiB page with PPN[0] != 0, store', 1, SUPER_PA + 0x1000n, 'sd', 15],
    ['1 GiB page with PPN[1] != 0, load', 2, RAM + 0x20_0000n, 'ld', 13],
    ['1 GiB page with PPN[0] != 0, fetch', 2, RAM + 0x1000n, 'jalr', 12],
  ] as const)('misaligned superpage: %s is a page fault', async (_, level, pa, op, cause) => {
    const va = level === 1 ? VA + 0x20_0000n : 0xc000_0000n;
    const { p } = vm((pt) => pt.map(va, pa, RWX, level), (q) => {
      q.li(s0, va + 0x10n).label('bad');
      if (op === 'ld') q.i('ld', { rd: a0, rs1: s0, imm: 0 });
      else if (op === 'sd') q.i('sd', { rs1: s0, rs2: 0, imm: 0 });
      else q.i('jalr', { rd: 0, rs1: s0, imm: 0 });
    });
    const r = await run(p);
    expectTrap(r, { cause, epc: op === 'jalr' ? va + 0x10n : r.addr('bad'), tval: va + 0x10n });
  });
});

describe('Sv39 permissions', () => {
  // [description, leaf flags, access, privilege, expected cause (0: allowed), mstatus bits]
  const cases: [string, bigint, 'ld' | 'sd' | 'jalr', number, number, bigint][] = [
    ['load from an invalid PTE', PR | PW | PA | PD, 'ld', PRV_S, 13, 0n],
    ['load from W without R (reserved)', V | PW | PA | PD, 'ld', PRV_S, 13, 0n],
    ['store to W without R (reserved)', V | PW | PA | PD, 'sd', PRV_S, 15, 0n],
    ['store to a read-only page', V | PR | PA | PD, 'sd', PRV_S, 15, 0n],
    ['load from an execute-only page', V | PX | PA, 'ld', PRV_S, 13, 0n],
    ['load from an execute-only page with MXR', V | PX | PA, 'ld', PRV_S, 0, MS.MXR],
    ['store to an execute-only page with MXR', V | PX | PA | PD, 'sd', PRV_S, 15, MS.MXR],
    ['fetch from a non-executable page', RW, 'jalr', PRV_S, 12, 0n],
    ['U load from a supervisor page', RW, 'ld', PRV_U, 13, 0n],
    ['U store to a supervisor page', RW, 'sd', PRV_U, 15, 0n],
    ['U fetch from a supervisor page', RWX, 'jalr', PRV_U, 12, 0n],
    ['U load from a user page', RW | PU, 'ld', PRV_U, 0, 0n],
    ['S load from a user page, SUM = 0', RW | PU, 'ld', PRV_S, 13, 0n],
    ['S store to a user page, SUM = 0', RW | PU, 'sd', PRV_S, 15, 0n],
    ['S load from a user page, SUM = 1', RW | PU, 'ld', PRV_S, 0, MS.SUM],
    ['S store to a user page, SUM = 1', RW | PU, 'sd', PRV_S, 0, MS.SUM],
    ['S fetch from a user page, even with SUM = 1', RWX | PU, 'jalr', PRV_S, 12, MS.SUM],
  ];
  it.each(cases)('%s', async (_, flags, op, prv, cause, ms) => {
    const { p } = vm((pt) => pt.map(VA, PA_A, flags), (q) => {
      q.li(s0, VA + 0x18n).li(a0, 0x77).label('bad');
      if (op === 'ld') q.i('ld', { rd: a0, rs1: s0, imm: 0 });
      else if (op === 'sd') q.i('sd', { rs1: s0, rs2: a0, imm: 0 });
      else q.i('jalr', { rd: 0, rs1: s0, imm: 0 });
    }, { prv, mstatus: ms });
    p.poke64(PA_A + 0x18n, 0x0000_0073_0000_0073n); // ecall (if fetched) / data
    const r = await run(p);
    if (cause === 0) {
      expectEnd(r, prv);
      if (op === 'ld') expect(r.x(a0)).toBe(0x0000_0073_0000_0073n);
      else expect(r.read64(PA_A + 0x18n)).toBe(0x77n);
    } else {
      expectTrap(r, { cause, epc: op === 'jalr' ? VA + 0x18n : r.addr('bad'), tval: VA + 0x18n });
      if (op === 'ld') expect(r.x(a0)).toBe(0x77n);
      if (op === 'sd') expect(r.read64(PA_A + 0x18n)).toBe(0x0000_0073_0000_0073n);
    }
  });
  it('clearing SUM or MXR takes effect on the next access', async () => {
    for (const [bit, flags] of [[MS.SUM, RW | PU], [MS.MXR, V | PX | PA]] as const) {
      const { p } = vm((pt) => pt.map(VA, PA_A, flags), (q) => {
        q.li(s0, VA).i('ld', { rd: a0, rs1: s0, imm: 0 }).li(t0, bit).csrc(CSR.sstatus, t0);
        q.label('bad').i('ld', { rd: a1, rs1: s0, imm: 0 });
      }, { mstatus: bit });
      p.poke64(PA_A, 0x5an);
      const r = await run(p);
      expectTrap(r, { cause: 13, epc: r.addr('bad'), tval: VA });
      expect(r.x(a0)).toBe(0x5an);
    }
  });
  it('non-leaf PTE at the last level, and a PTE with reserved bits 63:54 set, fault', async () => {
    for (const raw of [PageTables.pte(PA_A, V), PageTables.pte(PA_A, RW) | (1n << 60n)]) {
      const { p } = vm((pt) => pt.raw(VA, raw), (q) => {
        q.li(s0, VA).label('bad').i('ld', { rd: a0, rs1: s0, imm: 0 });
      });
      const r = await run(p);
      expectTrap(r, { cause: 13, epc: r.addr('bad'), tval: VA });
    }
  });
});

describe('Sv39 A and D bits (set by the hardware walk)', () => {
  it('a load sets A; a store sets A and D; a fetch sets A', async () => {
    let ptes: bigint[] = [];
    const { p } = vm((pt) => {
      ptes = [pt.map(VA, PA_A, V | PR | PW), pt.map(VA + 0x1000n, PA_B, V | PR | PW), pt.map(VA + 0x2000n, PA_C, V | PR | PX)];
    }, (q) => {
      q.li(s0, VA).i('ld', { rd: a0, rs1: s0, imm: 0 }).li(s1, VA + 0x1000n).i('sd', { rs1: s1, rs2: a0, imm: 0 });
      q.li(t0, VA + 0x2000n).i('jalr', { rd: 0, rs1: t0, imm: 0 });
    });
    p.pokes.push([PA_C, new Uint8Array([0x73, 0, 0, 0])]);
    const r = await run(p);
    expectTrap(r, { cause: 9, epc: VA + 0x2000n });
    expect(r.read64(ptes[0]) & (PA | PD)).toBe(PA);
    expect(r.read64(ptes[1]) & (PA | PD)).toBe(PA | PD);
    expect(r.read64(ptes[2]) & (PA | PD)).toBe(PA);
  });
  it('a store to a page already accessed (A = 1, D = 0) still sets D', async () => {
    let pte = 0n;
    const { p } = vm((pt) => { pte = pt.map(VA, PA_A, V | PR | PW | PA); }, (q) => {
      q.li(s0, VA).i('ld', { rd: a0, rs1: s0, imm: 0 }).i('sd', { rs1: s0, rs2: a0, imm: 8 });
    });
    const r = await run(p);
    expectEnd(r);
    expect(r.read64(pte) & (PA | PD)).toBe(PA | PD);
  });
});

describe('canonical addresses and satp', () => {
  it.each(([
    ['Sv39', 3, 0x0000_0040_0000_0000n], ['Sv39', 3, 0x8000_0000_0000_0000n], ['Sv39', 3, 0xffff_ff80_0000_0000n - 0x1000n],
    ['Sv48', 4, 0x0000_8000_0000_0000n], ['Sv48', 4, 0x7fff_0000_0000_0000n],
  ] as [string, 3 | 4, bigint][]).map(([m, l, v]) => [`${m} 0x${v.toString(16)}`, l, v] as [string, 3 | 4, bigint]))('%s is non-canonical: page fault with tval = the address', async (_, levels, va) => {
    const { p } = vm(() => {}, (q) => {
      q.li(s0, va).label('bad').i('sd', { rs1: s0, rs2: 0, imm: 0 });
    }, { levels });
    const r = await run(p);
    expectTrap(r, { cause: 15, epc: r.addr('bad'), tval: va });
  });
  it('Sv39 high canonical addresses translate (VPN[2] = 511)', async () => {
    const hi = 0xffff_ffff_c000_0000n;
    const { p } = vm((pt) => pt.map(hi, RAM, RW, 2), (q) => {
      q.li(s0, hi + 0x2_0000n).i('ld', { rd: a0, rs1: s0, imm: 0 });
    });
    p.poke64(PA_A, 0x9999n);
    const r = await run(p);
    expectEnd(r);
    expect(r.x(a0)).toBe(0x9999n);
  });
  it('Sv48: 4 KiB pages through four levels, a 512 GiB page, high canonical addresses', async () => {
    const hi = 0xffff_8000_0000_0000n;
    const { p } = vm((pt) => {
      pt.map(VA, PA_A, RW);
      pt.map(0x80_0000_0000n, 0n, RW, 3); // VA 512 GiB .. 1 TiB -> PA 0 .. 512 GiB
      pt.map(hi, PA_B, RW);
    }, (q) => {
      q.li(s0, VA).i('ld', { rd: a0, rs1: s0, imm: 0 });
      q.li(s1, 0x80_0000_0000n + PA_C).i('ld', { rd: a1, rs1: s1, imm: 0 });
      q.li(t0, hi).i('ld', { rd: a2, rs1: t0, imm: 8 });
    }, { levels: 4 });
    p.poke64(PA_A, 0xan).poke64(PA_C, 0xcn).poke64(PA_B + 8n, 0xbn);
    const r = await run(p);
    expectEnd(r);
    expect([r.x(a0), r.x(a1), r.x(a2)]).toEqual([0xan, 0xcn, 0xbn]);
  });
  it('a satp write with an unsupported MODE has no effect at all', async () => {
    const p = new Asm();
    const good = (8n << 60n) | 0x8_0100n;
    p.csrwv(CSR.satp, good);
    p.csrwv(CSR.satp, (10n << 60n) | 0x1234n).csrr(a0, CSR.satp); // Sv57: not implemented
    p.csrwv(CSR.satp, (1n << 60n) | 0x1234n).csrr(a1, CSR.satp); // reserved
    p.csrwv(CSR.satp, (15n << 60n)).csrr(a2, CSR.satp);
    p.csrwv(CSR.satp, 0).csrr(a3, CSR.satp);
    p.halt();
    const r = await run(p);
    expectHalt(r);
    expect([r.x(a0), r.x(a1), r.x(a2)]).toEqual([good, good, good]);
    expect(r.x(a3)).toBe(0n);
  });
});

describe('SFENCE.VMA and PTE updates', () => {
  it.each([['all', 0], ['by address', 1]] as const)('after a PTE change and sfence.vma (%s), the new frame is used', async (_, byAddr) => {
    let pte = 0n;
    const { p } = vm((pt) => { pte = pt.map(VA, PA_A, RW); }, (q) => {
      q.li(s0, VA).i('ld', { rd: a0, rs1: s0, imm: 0 });
      q.li(t0, pte).li(t1, PageTables.pte(PA_B, RW)).i('sd', { rs1: t0, rs2: t1, imm: 0 });
      q.i('sfence.vma', { rs1: byAddr ? s0 : 0, rs2: 0 });
      q.i('ld', { rd: a1, rs1: s0, imm: 0 });
    });
    p.poke64(PA_A, 0xaaaan).poke64(PA_B, 0xbbbbn);
    const r = await run(p);
    expectEnd(r);
    expect(r.x(a0)).toBe(0xaaaan);
    expect(r.x(a1)).toBe(0xbbbbn);
  });
  it('after invalidating a PTE and sfence.vma, the access faults', async () => {
    let pte = 0n;
    const { p } = vm((pt) => { pte = pt.map(VA, PA_A, RW); }, (q) => {
      q.li(s0, VA).i('ld', { rd: a0, rs1: s0, imm: 0 });
      q.li(t0, pte).i('sd', { rs1: t0, rs2: 0, imm: 0 }).i('sfence.vma', { rs1: 0, rs2: 0 });
      q.label('bad').i('ld', { rd: a1, rs1: s0, imm: 0 });
    });
    const r = await run(p);
    expectTrap(r, { cause: 13, epc: r.addr('bad'), tval: VA });
  });
});

describe('faults: tval of split accesses, delegation, MPRV', () => {
  it('a 32-bit instruction crossing into an unmapped page: fetch page fault, epc = start, tval = the second page', async () => {
    const { p } = vm((pt) => pt.map(VA, PA_C, V | PR | PX | PA), (q) => {
      q.li(t0, VA + 0xffen).i('jalr', { rd: 0, rs1: t0, imm: 0 });
    });
    p.pokes.push([PA_C + 0xffen, new Uint8Array([0x13, 0x05])]); // low half of addi a0, x0, ...
    const r = await run(p);
    expectTrap(r, { cause: 12, epc: VA + 0xffen, tval: VA + 0x1000n });
  });
  it('a misaligned load crossing into an unmapped page: tval = the address of the faulting part', async () => {
    const { p } = vm((pt) => pt.map(VA, PA_A, RW), (q) => {
      q.li(s0, VA + 0xffcn).label('bad').i('ld', { rd: a0, rs1: s0, imm: 0 });
    });
    const r = await run(p);
    expectTrap(r, { cause: 13, epc: r.addr('bad'), tval: VA + 0x1000n });
  });
  it('page faults delegated to S: scause, sepc, stval', async () => {
    const { p } = vm((pt) => pt.map(VA, PA_A, V | PR | PA), (q) => {
      q.li(s0, VA).label('bad').i('sw', { rs1: s0, rs2: 0, imm: 4 });
      q.j('end');
      q.align(4).label('strap').csrr(a0, CSR.scause).csrr(a1, CSR.sepc).csrr(a2, CSR.stval).j('end');
    }, { setup: (q) => q.csrwv(CSR.medeleg, 1 << 15).la(t1, 'strap').csrw(CSR.stvec, t1) });
    const r = await run(p);
    expectEnd(r);
    expect(r.x(a0)).toBe(15n);
    expect(r.x(a1)).toBe(r.addr('bad'));
    expect(r.x(a2)).toBe(VA + 4n);
  });
  it('MPRV = 1 with MPP = S: M-mode loads are translated, fetches are not', async () => {
    const p = new Asm();
    const pt = new PageTables(p, 3, PT_POOL);
    pt.map(VA, PA_A, RW); // no mapping for the code: M fetches physically
    p.openPmp().csrwv(CSR.satp, pt.satp).csrsv(CSR.mstatus, MS.MPRV | (1n << 11n));
    p.li(s0, VA).i('ld', { rd: a0, rs1: s0, imm: 0 }).li(s1, PA_A).label('bad').i('ld', { rd: a1, rs1: s1, imm: 0 });
    p.halt();
    p.poke64(PA_A, 0x4242n);
    const r = await run(p);
    expectTrap(r, { cause: 13, epc: r.addr('bad'), tval: PA_A }); // PA_A is not mapped as a VA
    expect(r.x(a0)).toBe(0x4242n);
  });
});

// H extension two-stage address translation (privileged spec, "Hypervisor Extension" chapter:
// "Two-Stage Address Translation", "Guest Physical Address Translation", "Guest-Page Faults",
// "Memory-Management Fences", "Transformed Instruction or Pseudoinstruction for mtinst or
// htinst"): VS-stage (vsatp) over G-stage (hgatp) in every Bare/Sv39/Sv48 combination, the
// 16 KiB G-stage root, the fault each stage raises and what it writes to mtval/mtval2/mtinst
// (htval/htinst when delegated), MXR/SUM, superpages, A/D, the 2-D walk counters and the TLB.
import { describe, it, expect } from 'vitest';
import { Asm, R, RAM, CSR, MS, PTE, PageTables, PRV_S, PRV_U, run, expectTrap, TEST_DEV } from './harness.js';
import { encode } from '../../src/isa/encode.js';
import { HS, MPV, MGVA, CAUSE, GTables, VsTables, GRWX, GRW, RWX, RW, G_POOL, VS_POOL, HS_POOL, PA_A, PA_B, guest, expectEnd, expectGuestFault } from './h-harness.js';

const { a0, a1, a2, a3, s0, s1, t0, t1 } = R;
const { V, R: PR, W: PW, X: PX, U: PU, A: PA, D: PD } = PTE;

const VS_POOL2 = RAM + 0x16_0000n;
const PA_C = RAM + 0x2_2000n;
const PA_T = RAM + 0x3_0000n; // a VS page table placed at a guest physical address of its own
const SUPER_PA = RAM + 0x20_0000n;
const VA = 0x4020_3000n; // VS-stage index 1 at level 1, 3 at level 0
const GPA_X = 0x1_0000_0000n;
const GPA_T = 0x2_0000_0000n;

const ld = (rd: number, rs1: number, imm = 0) => ['ld', { rd, rs1, imm }] as const;

describe('two-stage translation: the combinations of vsatp and hgatp', () => {
  it('Bare over Bare: guest physical = physical; no 2-D walk', async () => {
    const p = guest(() => {}, (q) => q.li(s0, PA_A).i('ld', { rd: a0, rs1: s0, imm: 8 }).li(a1, 0x77).i('sd', { rs1: s0, rs2: a1, imm: 16 }));
    p.poke64(PA_A + 8n, 0x1111n);
    const r = await run(p);
    expectEnd(r);
    expect(r.x(a0)).toBe(0x1111n);
    expect(r.read64(PA_A + 16n)).toBe(0x77n);
    expect(r.core.stats().walks2d).toBe(0n);
  });
  it('Bare over Sv39x4: the guest physical address goes through the G-stage', async () => {
    const p = guest((_, g) => g!.map(GPA_X, PA_A, GRW), (q) => {
      q.li(s0, GPA_X).i('ld', { rd: a0, rs1: s0, imm: 8 }).li(a1, 0x77).i('sd', { rs1: s0, rs2: a1, imm: 16 });
    }, { g: 3 });
    p.poke64(PA_A + 8n, 0x2222n);
    const r = await run(p);
    expectEnd(r);
    expect(r.x(a0)).toBe(0x2222n);
    expect(r.read64(PA_A + 16n)).toBe(0x77n);
    expect(r.core.stats().walks2d > 0n).toBe(true);
  });
  it('Sv39 over Bare: the VS-stage alone', async () => {
    const p = guest((vs) => vs!.map(VA, PA_A, RW), (q) => q.li(s0, VA).i('ld', { rd: a0, rs1: s0, imm: 8 }), { vs: 3 });
    p.poke64(PA_A + 8n, 0x3333n);
    const r = await run(p);
    expectEnd(r);
    expect(r.x(a0)).toBe(0x3333n);
  });
  it('Sv39 over Sv39x4: VA -> GPA -> PA', async () => {
    const p = guest((vs, g) => {
      vs!.map(VA, GPA_X, RW);
      g!.map(GPA_X, PA_A, GRW);
    }, (q) => q.li(s0, VA).i('ld', { rd: a0, rs1: s0, imm: 8 }).li(a1, 0x99).i('sd', { rs1: s0, rs2: a1, imm: 24 }), { vs: 3, g: 3 });
    p.poke64(PA_A + 8n, 0x4444n);
    const r = await run(p);
    expectEnd(r);
    expect(r.x(a0)).toBe(0x4444n);
    expect(r.read64(PA_A + 24n)).toBe(0x99n);
  });
  it('Sv48 over Sv48x4: a VA above 2^39 and a GPA above 2^41', async () => {
    const va = 0x80_1234_5000n;
    const gpa = 0xffff_ffff_f000n; // 2^48 - 4 KiB: beyond Sv39x4's 41 bits
    const p = guest((vs, g) => {
      vs!.map(va, gpa, RW);
      g!.map(gpa, PA_B, GRW);
    }, (q) => q.li(s0, va).i('ld', { rd: a0, rs1: s0, imm: 0 }), { vs: 4, g: 4 });
    p.poke64(PA_B, 0x5555n);
    const r = await run(p);
    expectEnd(r);
    expect(r.x(a0)).toBe(0x5555n);
  });
  it('Sv39x4 root is 16 KiB: GPA bits 40:39 select its upper pages', async () => {
    const g1 = 0x81_0000_0000n; // root index 0x204
    const g2 = 0x181_0000_0000n; // root index 0x604
    let pte2 = 0n;
    const p = guest((_, g) => {
      g!.map(GPA_X, PA_A, GRW); // root index 0x004
      g!.map(g1, PA_B, GRW);
      pte2 = g!.map(g2, PA_C, GRW);
      expect(g!.pteAddr(g2, 2)).toBe(G_POOL + 0x604n * 8n); // in the root's fourth 4 KiB
    }, (q) => {
      q.li(s0, GPA_X).i('ld', { rd: a0, rs1: s0, imm: 0 });
      q.li(s0, g1).i('ld', { rd: a1, rs1: s0, imm: 0 });
      q.li(s0, g2).i('ld', { rd: a2, rs1: s0, imm: 0 });
    }, { g: 3 });
    p.poke64(PA_A, 0xaan).poke64(PA_B, 0xbbn).poke64(PA_C, 0xccn);
    const r = await run(p);
    expectEnd(r);
    expect([r.x(a0), r.x(a1), r.x(a2)]).toEqual([0xaan, 0xbbn, 0xccn]);
  });
  it('Sv48x4: GPA bits 49:48 index the 16 KiB root too', async () => {
    const gpa = 0x3_0000_0000_0000n; // root index 0x600
    const p = guest((_, g) => g!.map(gpa, PA_A, GRW), (q) => q.li(s0, gpa).i('ld', { rd: a0, rs1: s0, imm: 0 }), { g: 4 });
    p.poke64(PA_A, 0x600n);
    const r = await run(p);
    expectEnd(r);
    expect(r.x(a0)).toBe(0x600n);
  });
});

describe('guest-page faults (G-stage) vs page faults (VS-stage)', () => {
  it('GPA bits above 41 (Sv39x4) or 50 (Sv48x4) nonzero: load guest-page fault, mtval2 = GPA >> 2', async () => {
    for (const [levels, gpa] of [[3, 1n << 41n], [4, 1n << 50n]] as const) {
      const p = guest(() => {}, (q) => q.li(s0, gpa).label('bad').i('ld', { rd: a0, rs1: s0, imm: 8 }), { g: levels });
      const r = await run(p);
      expectGuestFault(r, { cause: CAUSE.LOAD_GPF, epc: r.addr('bad'), tval: gpa + 8n, tval2: (gpa + 8n) >> 2n, tinst: 0x3503n });
    }
  });
  it('a VS-stage leaf pointing at a GPA beyond Sv39x4: guest-page fault with that GPA', async () => {
    const gpa = 0x400_0000_0000n; // 2^42
    const p = guest((vs) => vs!.map(VA, gpa, RW), (q) => q.li(s0, VA).label('bad').i('sw', { rs1: s0, rs2: 0, imm: 4 }), { vs: 3, g: 3 });
    const r = await run(p);
    expectGuestFault(r, { cause: CAUSE.STORE_GPF, epc: r.addr('bad'), tval: VA + 4n, tval2: (gpa + 4n) >> 2n, tinst: BigInt(encode('sw', { rs1: 0, rs2: 0, imm: 0 })) });
  });
  it('G-stage leaves need U = 1', async () => {
    const p = guest((_, g) => g!.map(GPA_X, PA_A, GRW & ~PU), (q) => q.li(s0, GPA_X).label('bad').i('ld', { rd: a0, rs1: s0, imm: 0 }), { g: 3 });
    const r = await run(p);
    expectGuestFault(r, { cause: CAUSE.LOAD_GPF, epc: r.addr('bad'), tval: GPA_X, tval2: GPA_X >> 2n, tinst: 0x3503n });
  });
  it('VS-stage page faults (12, 13, 15): mtval = the guest VA, GVA = 1, no mtval2/mtinst', async () => {
    // VA unmapped; VA + 0x1000 read-only
    const cases: [string, (q: Asm) => Asm, number, bigint][] = [
      ['load', (q) => q.i('ld', { rd: a0, rs1: s0, imm: 0 }), CAUSE.LOAD_PF, VA],
      ['store', (q) => q.i('sd', { rs1: s0, rs2: a0, imm: 0 }), CAUSE.STORE_PF, VA],
      ['store to read-only', (q) => q.i('sd', { rs1: s0, rs2: a0, imm: 8 }), CAUSE.STORE_PF, VA + 8n],
      ['fetch', (q) => q.i('jalr', { rd: 0, rs1: s0, imm: 0 }), CAUSE.FETCH_PF, VA],
      ['amo', (q) => q.i('amoadd.d', { rd: a0, rs1: s0, rs2: a0 }), CAUSE.STORE_PF, VA],
    ];
    for (const [what, insn, cause, tval] of cases) {
      const p = guest((vs, g) => {
        if (what === 'store to read-only') {
          vs!.map(VA, GPA_X, V | PR | PA | PD);
          g!.map(GPA_X, PA_A, GRW);
        }
      }, (q) => insn(q.li(s0, VA).label('bad')), { vs: 3, g: 3 });
      const r = await run(p);
      expectGuestFault(r, { cause, epc: what === 'fetch' ? VA : r.addr('bad'), tval });
      expect(r.csr(CSR.mtval2), what).toBe(0n);
    }
  });
  it('G-stage fault on the final GPA: 21/23/20, mtval2 = GPA >> 2, mtinst = the transformed instruction', async () => {
    const cases: [string, (q: Asm) => Asm, number, bigint, bigint][] = [
      // what, the instruction at `bad`, cause, G-stage flags, mtinst
      ['ld a0, 8(s0)', (q) => q.i('ld', { rd: a0, rs1: s0, imm: 8 }), CAUSE.LOAD_GPF, 0n, 0x3503n],
      ['lbu a3 from a G execute-only page', (q) => q.i('lbu', { rd: a3, rs1: s0, imm: 8 }), CAUSE.LOAD_GPF, V | PX | PU | PA | PD, 0x4683n],
      ['sd a1, 8(s0)', (q) => q.i('sd', { rs1: s0, rs2: a1, imm: 8 }), CAUSE.STORE_GPF, V | PR | PU | PA | PD, BigInt(encode('sd', { rs1: 0, rs2: a1, imm: 0 }))],
      ['sh a1, 8(s0)', (q) => q.i('sh', { rs1: s0, rs2: a1, imm: 8 }), CAUSE.STORE_GPF, 0n, BigInt(encode('sh', { rs1: 0, rs2: a1, imm: 0 }))],
      ['c.ld a0, 8(s1)', (q) => q.mv(s1, s0).label('bad2').i('c.ld', { rd: a0, rs1: s1, imm: 8 }).nop(), CAUSE.LOAD_GPF, 0n, 0x3501n],
      ['c.sd a1, 8(s0)', (q) => q.label('bad2').i('c.sd', { rs1: s0, rs2: a1, imm: 8 }).nop(), CAUSE.STORE_GPF, 0n, BigInt(encode('sd', { rs1: 0, rs2: a1, imm: 0 })) & ~2n],
      ['amoswap.w a2, a1, (s0)', (q) => q.i('addi', { rd: s0, rs1: s0, imm: 8 }).label('bad2').i('amoswap.w', { rd: a2, rs1: s0, rs2: a1 }), CAUSE.STORE_GPF, 0n,
        BigInt(encode('amoswap.w', { rd: a2, rs1: 0, rs2: a1 }))],
      ['lr.d a2, (s0)', (q) => q.i('addi', { rd: s0, rs1: s0, imm: 8 }).label('bad2').i('lr.d', { rd: a2, rs1: s0 }), CAUSE.LOAD_GPF, 0n,
        BigInt(encode('lr.d', { rd: a2, rs1: 0 }))],
    ];
    for (const [what, insn, cause, gflags, tinst] of cases) {
      const p = guest((vs, g) => {
        vs!.map(VA, GPA_X, RW);
        if (gflags) g!.map(GPA_X, PA_A, gflags);
        else g!.map(GPA_X + 0x1000n, PA_A, GRW); // same leaf table, GPA_X itself invalid
      }, (q) => insn(q.li(s0, VA).label('bad')), { vs: 3, g: 3 });
      const r = await run(p);
      const epc = what.startsWith('c.') || what.startsWith('amo') || what.startsWith('lr') ? r.addr('bad2') : r.addr('bad');
      expectGuestFault(r, { cause, epc, tval: VA + 8n, tval2: (GPA_X + 8n) >> 2n, tinst });
    }
  });
  it('a misaligned load across into a G-unmapped page: the offset of the faulting part is in the transformed instruction', async () => {
    const p = guest((vs, g) => {
      vs!.map(VA, GPA_X, RW);
      vs!.map(VA + 0x1000n, GPA_X + 0x1000n, RW);
      g!.map(GPA_X, PA_A, GRW);
    }, (q) => q.li(s0, VA + 0xffcn).label('bad').i('ld', { rd: a0, rs1: s0, imm: 0 }), { vs: 3, g: 3 });
    const r = await run(p);
    expectTrap(r, { cause: CAUSE.LOAD_GPF, epc: r.addr('bad') });
    const tval = r.csr(CSR.mtval);
    expect(tval >= VA + 0xffcn && tval <= VA + 0x1000n).toBe(true);
    expect(r.csr(CSR.mtval2)).toBe((GPA_X + 0x1000n + (tval - VA - 0x1000n)) >> 2n);
    expect(r.csr(CSR.mtinst)).toBe(0x3503n | ((tval - (VA + 0xffcn)) << 15n));
  });
  it('G-stage fault on a fetch: cause 20, mtval2 = GPA >> 2, mtinst = 0', async () => {
    const p = guest((vs, g) => {
      vs!.map(VA, GPA_X, RWX);
      g!.map(GPA_X, PA_A, GRW); // not executable
    }, (q) => q.li(s0, VA + 0x10n).i('jalr', { rd: 0, rs1: s0, imm: 0 }), { vs: 3, g: 3 });
    const r = await run(p);
    expectGuestFault(r, { cause: CAUSE.FETCH_GPF, epc: VA + 0x10n, tval: VA + 0x10n, tval2: (GPA_X + 0x10n) >> 2n, tinst: 0n });
  });
  it('delegated to HS (medeleg[21]): scause, stval = VA, htval = GPA >> 2, htinst, hstatus.GVA/SPV/SPVP', async () => {
    const p = guest((vs, g) => {
      vs!.map(VA, GPA_X, RW);
      g!.map(GPA_X + 0x1000n, PA_A, GRW);
    }, (q) => q.li(s0, VA).label('bad').i('ld', { rd: a0, rs1: s0, imm: 0x10 }), {
      vs: 3, g: 3,
      setup: (q) => q.csrwv(CSR.medeleg, 1 << 21).la(t0, 'hs').csrw(CSR.stvec, t0).csrwv(CSR.mtval2, 0x1234).csrwv(CSR.hedeleg, -1),
    });
    p.align(4).label('hs').label('hsend').i('ecall');
    const r = await run(p);
    expectTrap(r, { cause: CAUSE.S_ECALL, epc: r.addr('hsend') });
    expect(r.strap).toEqual({ cause: 21n, epc: r.addr('bad'), tval: VA + 0x10n });
    expect(r.csr(CSR.htval)).toBe((GPA_X + 0x10n) >> 2n);
    expect(r.csr(CSR.htinst)).toBe(0x3503n);
    expect(r.csr(CSR.hstatus) & (HS.GVA | HS.SPV | HS.SPVP)).toBe(HS.GVA | HS.SPV | HS.SPVP);
    // then the ecall from HS to M: not a guest-page fault, so mtval2 = 0 and GVA = 0
    expect(r.csr(CSR.mtval2)).toBe(0n);
    expect(r.trapMstatus & MGVA).toBe(0n);
  });
  it('a later trap to HS that is not a guest-page fault clears hstatus.GVA and writes htval/htinst = 0', async () => {
    const p = guest(() => {}, (q) => q.label('bad').word(0xb), {
      setup: (q) => q.csrwv(CSR.medeleg, 1 << 2).la(t0, 'hs').csrw(CSR.stvec, t0).csrwv(CSR.hstatus, HS.GVA).csrwv(CSR.htval, 5).csrwv(CSR.htinst, 6),
    });
    p.align(4).label('hs').label('hsend').i('ecall');
    const r = await run(p);
    expectTrap(r, { cause: CAUSE.S_ECALL, epc: r.addr('hsend') });
    expect(r.strap.cause).toBe(2n);
    expect(r.csr(CSR.hstatus) & HS.GVA).toBe(0n);
    expect(r.csr(CSR.htval)).toBe(0n);
    expect(r.csr(CSR.htinst)).toBe(0n);
  });
  it('G-stage fault on an implicit PTE read of the VS-stage walk: original cause, mtval2 = PTE GPA >> 2, mtinst = 0x3000', async () => {
    const pteGpa = GPA_T + 8n * ((VA >> 12n) & 0x1ffn); // the level-0 PTE of VA, in a table at GPA_T
    for (const [what, insn, cause, epcIsVa] of [
      ['load', (q: Asm) => q.i('lw', { rd: a0, rs1: s0, imm: 0 }), CAUSE.LOAD_GPF, false],
      ['store', (q: Asm) => q.i('sd', { rs1: s0, rs2: a0, imm: 0 }), CAUSE.STORE_GPF, false],
      ['fetch', (q: Asm) => q.i('jalr', { rd: 0, rs1: s0, imm: 0 }), CAUSE.FETCH_GPF, true],
    ] as const) {
      const p = guest((vs) => vs!.raw(VA, PageTables.pte(GPA_T, V), 1), (q) => insn(q.li(s0, VA).label('bad')), { vs: 3, g: 3 });
      const r = await run(p);
      expectGuestFault(r, { cause, epc: epcIsVa ? VA : r.addr('bad'), tval: VA, tval2: pteGpa >> 2n, tinst: 0x3000n });
      void what;
    }
  });
  it('G-stage fault on the VS-stage A/D update (a write the G-stage refuses): mtinst = 0x3020', async () => {
    const idx = (VA >> 12n) & 0x1ffn;
    const pteGpa = GPA_T + 8n * idx;
    // [VS leaf flags, the access, cause, faults]
    const cases: [bigint, string, number, boolean][] = [
      [V | PR | PW, 'load', CAUSE.LOAD_GPF, true], // A = 0: the walk must write the PTE
      [V | PR | PW | PA, 'load', 0, false], // A = 1: only a read
      [V | PR | PW | PA, 'store', CAUSE.STORE_GPF, true], // D = 0
      [V | PR | PW | PA | PD, 'store', 0, false],
    ];
    for (const [flags, access, cause, faults] of cases) {
      const p = guest((vs, g) => {
        vs!.raw(VA, PageTables.pte(GPA_T, V), 1);
        g!.map(GPA_T, PA_T, V | PR | PU | PA | PD); // the leaf table: readable, not writable
        g!.map(GPA_X, PA_A, GRW);
      }, (q) => {
        q.li(s0, VA).label('bad');
        if (access === 'load') q.i('ld', { rd: a0, rs1: s0, imm: 0 });
        else q.i('sd', { rs1: s0, rs2: s0, imm: 0 });
      }, { vs: 3, g: 3 });
      p.poke64(PA_T + 8n * idx, PageTables.pte(GPA_X, flags));
      p.poke64(PA_A, 0x4242n);
      const r = await run(p);
      if (faults) expectGuestFault(r, { cause, epc: r.addr('bad'), tval: VA, tval2: pteGpa >> 2n, tinst: 0x3020n });
      else {
        expectEnd(r);
        if (access === 'load') expect(r.x(a0)).toBe(0x4242n);
        else expect(r.read64(PA_A)).toBe(VA);
      }
      expect(r.read64(PA_T + 8n * idx), `${access} ${flags}`).toBe(PageTables.pte(GPA_X, flags)); // never written
    }
  });
  it('access faults (not guest-page faults) for a GPA mapped outside RAM, for the data and for a VS page table', async () => {
    const p = guest((vs, g) => {
      vs!.map(VA, GPA_X, RW);
      g!.map(GPA_X, 0x4000_0000n, GRW);
    }, (q) => q.li(s0, VA).label('bad').i('ld', { rd: a0, rs1: s0, imm: 0 }), { vs: 3, g: 3 });
    const r = await run(p);
    expectGuestFault(r, { cause: CAUSE.LOAD_ACCESS, epc: r.addr('bad'), tval: VA });
    const q = guest((vs, g) => {
      vs!.raw(VA, PageTables.pte(GPA_T, V), 1);
      g!.map(GPA_T, 0x4000_0000n, GRW);
    }, (x) => x.li(s0, VA).label('bad').i('sd', { rs1: s0, rs2: 0, imm: 0 }), { vs: 3, g: 3 });
    const r2 = await run(q);
    expectGuestFault(r2, { cause: CAUSE.STORE_ACCESS, epc: r2.addr('bad'), tval: VA });
  });
});

describe('permissions across the stages: MXR, SUM, U', () => {
  async function load(vsFlags: bigint, gFlags: bigint, o: { vsstatus?: bigint; mstatus?: bigint; prv?: number } = {}) {
    const p = guest((vs, g) => {
      vs!.map(VA, GPA_X, vsFlags);
      g!.map(GPA_X, PA_A, gFlags);
    }, (q) => q.li(s0, VA).label('bad').i('ld', { rd: a0, rs1: s0, imm: 0 }), {
      vs: 3, g: 3, prv: o.prv,
      setup: (q) => {
        if (o.vsstatus) q.csrwv(CSR.vsstatus, o.vsstatus);
        if (o.mstatus) q.csrsv(CSR.mstatus, o.mstatus);
      },
    });
    p.poke64(PA_A, 0x6161n);
    const r = await run(p);
    if (r.csr(CSR.mcause) === (o.prv === PRV_U ? 8n : 10n)) {
      expect(r.x(a0)).toBe(0x6161n);
      return 0;
    }
    return Number(r.csr(CSR.mcause));
  }
  const XO = V | PX | PA | PD;
  const GXO = V | PX | PU | PA | PD;
  it('VS-stage execute-only: load page fault unless vsstatus.MXR or mstatus.MXR', async () => {
    expect(await load(XO, GRW)).toBe(CAUSE.LOAD_PF);
    expect(await load(XO, GRW, { vsstatus: MS.MXR })).toBe(0);
    expect(await load(XO, GRW, { mstatus: MS.MXR })).toBe(0);
  });
  it('G-stage execute-only: guest-page fault; vsstatus.MXR does not help, mstatus.MXR does', async () => {
    expect(await load(RW, GXO)).toBe(CAUSE.LOAD_GPF);
    expect(await load(RW, GXO, { vsstatus: MS.MXR })).toBe(CAUSE.LOAD_GPF);
    expect(await load(RW, GXO, { mstatus: MS.MXR })).toBe(0);
    expect(await load(XO, GXO, { mstatus: MS.MXR })).toBe(0);
  });
  it('VS-mode and U pages: vsstatus.SUM decides (mstatus.SUM does not); VU needs U pages', async () => {
    expect(await load(RW | PU, GRW)).toBe(CAUSE.LOAD_PF);
    expect(await load(RW | PU, GRW, { vsstatus: MS.SUM })).toBe(0);
    expect(await load(RW | PU, GRW, { mstatus: MS.SUM })).toBe(CAUSE.LOAD_PF);
    expect(await load(RW, GRW, { prv: PRV_U })).toBe(CAUSE.LOAD_PF);
    expect(await load(RW | PU, GRW, { prv: PRV_U })).toBe(0);
    expect(await load(RW | PU, GRW & ~PU, { prv: PRV_U })).toBe(CAUSE.LOAD_GPF);
  });
});

describe('superpages and A/D in both stages', () => {
  it('a VS 2 MiB page over a G 2 MiB page, and a VS 4 KiB page over a G 1 GiB page', async () => {
    const va2 = 0x4060_0000n;
    const gpa2 = 0x1_0020_0000n;
    const p = guest((vs, g) => {
      vs!.map(va2, gpa2, RW, 1);
      g!.map(gpa2, SUPER_PA, GRW, 1);
      vs!.map(VA, 0x1_4000_0000n + (PA_B - RAM), RW);
      g!.map(0x1_4000_0000n, RAM, GRW, 2);
    }, (q) => {
      q.li(s0, va2 + 0x1_2340n).i('ld', { rd: a0, rs1: s0, imm: 0 });
      q.li(s0, VA).i('ld', { rd: a1, rs1: s0, imm: 8 });
    }, { vs: 3, g: 3 });
    p.poke64(SUPER_PA + 0x1_2340n, 0x2020n).poke64(PA_B + 8n, 0x1040n);
    const r = await run(p);
    expectEnd(r);
    expect(r.x(a0)).toBe(0x2020n);
    expect(r.x(a1)).toBe(0x1040n);
  });
  it('a misaligned G-stage superpage is a guest-page fault; a misaligned VS superpage a page fault', async () => {
    const p = guest((vs, g) => {
      vs!.map(VA, GPA_X, RW);
      g!.map(GPA_X, SUPER_PA + 0x1000n, GRW, 1);
    }, (q) => q.li(s0, VA).label('bad').i('ld', { rd: a0, rs1: s0, imm: 0 }), { vs: 3, g: 3 });
    const r = await run(p);
    expectGuestFault(r, { cause: CAUSE.LOAD_GPF, epc: r.addr('bad'), tval: VA, tval2: GPA_X >> 2n, tinst: 0x3503n });
    const q = guest((vs) => vs!.map(0x4060_0000n, SUPER_PA + 0x1000n, RW, 1), (x) => x.li(s0, 0x4060_0000n).label('bad').i('ld', { rd: a0, rs1: s0, imm: 0 }), { vs: 3, g: 3 });
    const r2 = await run(q);
    expectGuestFault(r2, { cause: CAUSE.LOAD_PF, epc: r2.addr('bad'), tval: 0x4060_0000n });
  });
  it('A and D are set in the VS leaf, in the G leaf of the data and (A and D: the update is a store) in the G leaf of the VS table', async () => {
    for (const access of ['load', 'store'] as const) {
      const idx = (VA >> 12n) & 0x1ffn;
      let gData = 0n;
      let gTable = 0n;
      const p = guest((vs, g) => {
        vs!.raw(VA, PageTables.pte(GPA_T, V), 1);
        gTable = g!.map(GPA_T, PA_T, V | PR | PW | PU);
        gData = g!.map(GPA_X, PA_A, V | PR | PW | PU);
      }, (q) => {
        q.li(s0, VA);
        if (access === 'load') q.i('ld', { rd: a0, rs1: s0, imm: 0 });
        else q.i('sd', { rs1: s0, rs2: s0, imm: 0 });
      }, { vs: 3, g: 3 });
      p.poke64(PA_T + 8n * idx, PageTables.pte(GPA_X, V | PR | PW));
      const r = await run(p);
      expectEnd(r);
      const ad = (pte: bigint) => pte & (PA | PD);
      const want = access === 'load' ? PA : PA | PD;
      expect(ad(r.read64(PA_T + 8n * idx)), `${access}: VS leaf`).toBe(want);
      expect(ad(r.read64(gData)), `${access}: G leaf of the data`).toBe(want);
      expect(ad(r.read64(gTable)), `${access}: G leaf of the VS table`).toBe(PA | PD);
    }
  });
});

describe('2-D walk counters', () => {
  /** VS Sv39/Sv48 over Sv39x4/Sv48x4, every table and the data behind 4 KiB G leaves (A/D set). */
  function twoD(vsLevels: 3 | 4, gLevels: 3 | 4, withLoad: boolean) {
    const va2 = 0x4007_3000n;
    return guest((vs, g) => {
      vs!.map(va2, GPA_X, RW);
      g!.map(GPA_X, PA_A, GRW);
    }, (q) => {
      q.li(s0, va2);
      if (withLoad) q.i('ld', { rd: a0, rs1: s0, imm: 0 });
      else q.nop();
    }, { vs: vsLevels, g: gLevels, small: true });
  }
  it.each([[3, 3, 15n], [4, 4, 24n], [3, 4, 19n], [4, 3, 19n]] as const)(
    'VS %i levels over G %i levels: one TLB miss = 1 2-D walk of %i PTE references', async (vsl, gl, refs) => {
      const with1 = await run(twoD(vsl, gl, true));
      const without = await run(twoD(vsl, gl, false));
      expectEnd(with1);
      expectEnd(without);
      const s1 = with1.core.stats();
      const s0_ = without.core.stats();
      expect(s1.walks2d - s0_.walks2d).toBe(1n);
      expect(s1.walkRefs2d - s0_.walkRefs2d).toBe(refs);
    });
});

describe('TLB and fences with two stages', () => {
  /** VS loads VA (a0), ecalls to M which runs `change` then returns to VS at `vs2`, which loads VA again (a1). */
  function twice(map: (vs: VsTables, g: GTables, p: Asm) => void, change: (p: Asm) => void) {
    const p = guest((vs, g, q) => map(vs!, g!, q), (q) => {
      q.li(s0, VA).i('ld', { rd: a0, rs1: s0, imm: 0 }).i('ecall');
      q.label('vs2').i('ld', { rd: a1, rs1: s0, imm: 0 });
    }, { vs: 3, g: 3, setup: (q) => q.la(t0, 'm2').csrw(CSR.mtvec, t0) });
    p.align(4).label('m2');
    change(p);
    p.la(t0, '__trap').csrw(CSR.mtvec, t0).la(t0, 'vs2').csrw(CSR.mepc, t0).i('mret');
    p.poke64(PA_A, 0xaaaan).poke64(PA_B, 0xbbbbn);
    return p;
  }
  it('a new G-stage mapping is seen after HFENCE.GVMA', async () => {
    let gpte = 0n;
    const p = twice((vs, g) => {
      vs.map(VA, GPA_X, RW);
      gpte = g.map(GPA_X, PA_A, GRW);
    }, (q) => q.li(t0, gpte).li(t1, PageTables.pte(PA_B, GRW)).i('sd', { rs1: t0, rs2: t1, imm: 0 }).i('hfence.gvma', { rs1: 0, rs2: 0 }));
    const r = await run(p);
    expectEnd(r);
    expect([r.x(a0), r.x(a1)]).toEqual([0xaaaan, 0xbbbbn]);
  });
  it('a new VS-stage mapping is seen after HFENCE.VVMA (PTE changed by the hypervisor)', async () => {
    let vpte = 0n;
    const p = twice((vs, g) => {
      vpte = vs.map(VA, GPA_X, RW);
      g.map(GPA_X, PA_A, GRW);
      g.map(GPA_X + 0x1000n, PA_B, GRW);
    }, (q) => q.li(t0, vpte).li(t1, PageTables.pte(GPA_X + 0x1000n, RW)).i('sd', { rs1: t0, rs2: t1, imm: 0 }).i('hfence.vvma', { rs1: 0, rs2: 0 }));
    const r = await run(p);
    expectEnd(r);
    expect([r.x(a0), r.x(a1)]).toEqual([0xaaaan, 0xbbbbn]);
  });
  it('a new vsatp (written by the hypervisor) and a new hgatp take effect', async () => {
    const p0 = new Asm();
    const vs2 = new VsTables(p0, 3, VS_POOL2);
    const p = twice((vs, g, q) => {
      vs.map(VA, GPA_X, RW);
      g.map(GPA_X, PA_A, GRW);
      g.map(GPA_X + 0x1000n, PA_B, GRW);
      const other = new VsTables(q, 3, VS_POOL2);
      other.map(RAM, RAM, RWX, 2);
      other.map(VA, GPA_X + 0x1000n, RW);
    }, (q) => q.csrwv(CSR.vsatp, vs2.satp).i('hfence.vvma', { rs1: 0, rs2: 0 }));
    const r = await run(p);
    expectEnd(r);
    expect([r.x(a0), r.x(a1)]).toEqual([0xaaaan, 0xbbbbn]);
  });
  it('the guest changes its own PTE and fences with SFENCE.VMA', async () => {
    let vpte = 0n;
    const p = guest((vs, g) => {
      vpte = vs!.map(VA, GPA_X, RW);
      g!.map(GPA_X, PA_A, GRW);
      g!.map(GPA_X + 0x1000n, PA_B, GRW);
    }, (q) => {
      q.li(s0, VA).i('ld', { rd: a0, rs1: s0, imm: 0 });
      q.li(t0, vpte).li(t1, PageTables.pte(GPA_X + 0x1000n, RW)).i('sd', { rs1: t0, rs2: t1, imm: 0 });
      q.i('sfence.vma', { rs1: s0, rs2: 0 }).i('ld', { rd: a1, rs1: s0, imm: 0 });
    }, { vs: 3, g: 3 });
    p.poke64(PA_A, 0xaaaan).poke64(PA_B, 0xbbbbn);
    const r = await run(p);
    expectEnd(r);
    expect([r.x(a0), r.x(a1)]).toEqual([0xaaaan, 0xbbbbn]);
  });
  it('V=0 and V=1 translations of one VA do not leak into each other', async () => {
    const p = new Asm();
    const hs = new PageTables(p, 3, HS_POOL);
    hs.map(RAM, RAM, RWX, 2);
    hs.map(VA, PA_A, RW);
    const vs = new VsTables(p, 3, VS_POOL);
    vs.map(RAM, RAM, RWX, 2);
    vs.map(VA, GPA_X, RW);
    const g = new GTables(p, 3, G_POOL);
    g.map(RAM, RAM, GRWX, 2);
    g.map(GPA_X, PA_B, GRW);
    p.openPmp().csrwv(CSR.satp, hs.satp).csrwv(CSR.vsatp, vs.satp).csrwv(CSR.hgatp, g.hgatp);
    p.csrwv(CSR.medeleg, 1 << 10).la(t0, 'hs2').csrw(CSR.stvec, t0);
    p.enter(PRV_S, 'hs');
    p.label('hs').li(s0, VA).i('ld', { rd: a0, rs1: s0, imm: 0 });
    p.csrsv(CSR.hstatus, HS.SPV).csrsv(CSR.sstatus, MS.SPP).la(t0, 'vs').csrw(CSR.sepc, t0).i('sret');
    p.label('vs').i('ld', { rd: a1, rs1: s0, imm: 0 }).i('ecall');
    p.align(4).label('hs2').i('ld', { rd: a2, rs1: s0, imm: 0 }).label('end').i('ecall');
    p.poke64(PA_A, 0xaaaan).poke64(PA_B, 0xbbbbn);
    const r = await run(p);
    expectTrap(r, { cause: CAUSE.S_ECALL, epc: r.addr('end') });
    expect([r.x(a0), r.x(a1), r.x(a2)]).toEqual([0xaaaan, 0xbbbbn, 0xaaaan]);
  });
  it('M-mode with MPRV = 1 and MPV = 1 loads through both stages, and GVA is set on its faults', async () => {
    const p = new Asm();
    const vs = new VsTables(p, 3, VS_POOL);
    vs.map(VA, GPA_X, RW);
    const g = new GTables(p, 3, G_POOL);
    g.map(RAM, RAM, GRW, 2); // the VS tables
    g.map(GPA_X, PA_B, GRW);
    p.openPmp().csrwv(CSR.vsatp, vs.satp).csrwv(CSR.hgatp, g.hgatp).li(s0, VA);
    p.csrsv(CSR.mstatus, MPV | MS.MPRV | (1n << 11n)).i('ld', { rd: a0, rs1: s0, imm: 0 });
    p.li(s1, VA + 0x1000n).label('bad').i('ld', { rd: a1, rs1: s1, imm: 0 }).halt();
    p.poke64(PA_B, 0xbbbbn);
    const r = await run(p);
    expectTrap(r, { cause: CAUSE.LOAD_PF, epc: r.addr('bad'), tval: VA + 0x1000n });
    expect(r.x(a0)).toBe(0xbbbbn);
    expect(r.trapMstatus & MGVA).toBe(MGVA);
  });
});

describe('compiled code (JIT) under two-stage translation', () => {
  it('a guest-page fault in the middle of a compiled loop reports the same mtval/mtval2/mtinst as the interpreter', async () => {
    const image = () => guest((vs, g) => {
      vs!.map(VA, GPA_X, RW);
      vs!.map(VA + 0x1000n, GPA_X + 0x1000n, RW);
      g!.map(GPA_X, PA_A, GRW); // GPA_X + 0x1000 is not mapped
    }, (q) => {
      q.li(s0, VA).li(t0, 600);
      q.label('loop').i('ld', { rd: a0, rs1: s0, imm: 0 }).i('addi', { rd: s0, rs1: s0, imm: 8 });
      q.i('addi', { rd: t0, rs1: t0, imm: -1 }).i('bne', { rs1: t0, rs2: 0 }, 'loop');
    }, { vs: 3, g: 3 });
    const outcome = async (jit: boolean) => {
      const p = image();
      const { Core } = await import('./harness.js');
      const core = await Core.create(4 << 20);
      if (jit) core.enableJit({ threshold: 1, batch: 1 });
      core.writeRam(RAM, p.assemble());
      for (const [pa, b] of p.pokes) core.writeRam(pa, b);
      core.setHypervisorExtension(true);
      core.reset(RAM);
      for (let k = 0; k < 20; k++) core.run(97);
      core.run(100_000);
      const s = core.stats();
      return {
        trap: [CSR.mcause, CSR.mepc, CSR.mtval, CSR.mtval2, CSR.mtinst].map((c) => BigInt.asUintN(64, core.csr(c))),
        x: core.x(t0),
        retired: s.jitRetired,
      };
    };
    const a = await outcome(false);
    const b = await outcome(true);
    expect(a.trap[0]).toBe(BigInt(CAUSE.LOAD_GPF));
    expect(a.trap[2]).toBe(VA + 0x1000n);
    expect(a.trap[3]).toBe((GPA_X + 0x1000n) >> 2n);
    expect(a.trap[4]).toBe(0x3503n);
    expect(b.retired).toBeGreaterThan(0n);
    expect(b.trap).toEqual(a.trap);
    expect(b.x).toBe(a.x);
  });
});

describe('more two-stage corner cases', () => {
  it('a 32-bit instruction straddling into a page the G-stage does not map: fetch guest-page fault at the second half', async () => {
    const p = guest((vs, g) => {
      vs!.map(VA, GPA_X, RWX);
      vs!.map(VA + 0x1000n, GPA_X + 0x1000n, RWX);
      g!.map(GPA_X, PA_A, GRWX);
    }, (q) => q.li(s0, VA + 0xffen).i('jalr', { rd: 0, rs1: s0, imm: 0 }), { vs: 3, g: 3 });
    // at VA + 0xffe: the low half of an addi (not compressed)
    p.pokes.push([PA_A + 0xffen, new Uint8Array([0x13, 0x05])]);
    const r = await run(p);
    // mtval: the portion of the instruction that faulted (privileged spec, stval; H chapter,
    // "Guest-Page Faults"), mtval2 the GPA of exactly that address
    expectTrap(r, { cause: CAUSE.FETCH_GPF, epc: VA + 0xffen, tval: VA + 0x1000n });
    expect(r.csr(CSR.mtval2)).toBe((GPA_X + 0x1000n) >> 2n);
    expect(r.csr(CSR.mtinst)).toBe(0n);
    expect(r.trapMstatus & (MPV | MGVA)).toBe(MPV | MGVA);
  });
  it('a non-canonical VA under Sv39 is a VS-stage page fault; under vsatp Bare, a guest-page fault', async () => {
    const bad = 0x80_0000_0000n;
    const p = guest(() => {}, (q) => q.li(s0, bad).label('bad').i('ld', { rd: a0, rs1: s0, imm: 0 }), { vs: 3, g: 3 });
    const r = await run(p);
    expectGuestFault(r, { cause: CAUSE.LOAD_PF, epc: r.addr('bad'), tval: bad });
    const top = 0xffff_ffff_ffff_f000n;
    const q = guest(() => {}, (x) => x.li(s0, top).label('bad').i('ld', { rd: a0, rs1: s0, imm: 8 }), { g: 3 });
    const r2 = await run(q);
    expectGuestFault(r2, { cause: CAUSE.LOAD_GPF, epc: r2.addr('bad'), tval: top + 8n, tval2: (top + 8n) >> 2n, tinst: 0x3503n });
  });
  it('fetch access fault with V=1 (G-stage maps code outside RAM): cause 1, GVA = 1', async () => {
    const p = guest((vs, g) => {
      vs!.map(VA, GPA_X, RWX);
      g!.map(GPA_X, 0x4000_0000n, GRWX);
    }, (q) => q.li(s0, VA).i('jalr', { rd: 0, rs1: s0, imm: 0 }), { vs: 3, g: 3 });
    const r = await run(p);
    expectGuestFault(r, { cause: CAUSE.FETCH_ACCESS, epc: VA, tval: VA });
  });
});

// The H extension's fault matrix (privileged spec, "Hypervisor Extension" chapter: "Two-Stage
// Address Translation", "Guest Physical Address Translation", "Guest-Page Faults", "Trap
// Entry", "Transformed Instruction or Pseudoinstruction for mtinst or htinst", "Virtual
// Instruction Exception"), generated from tables:
//  - every VS-stage mode over every G-stage mode x fetch/load/store/AMO x where the walk
//    fails (the VS leaf, the G-stage leaf of the final guest physical address, the G-stage
//    translation of the VS PTE read at each VS level, the G-stage check of the VS A/D update,
//    misaligned superpages) x leaf size, each taken in M, HS or VS: cause, epc, tval,
//    mtval2/htval, mtinst/htinst, GVA, MPV/SPV and MPP/SPP;
//  - FP loads and stores (and their compressed forms) on a guest-page fault: the transformed
//    instruction;
//  - CSR writes (and read-modify-writes) from VS and VU: virtual instruction or illegal.
import { describe, it, expect } from 'vitest';
import { Asm, R, RAM, CSR, MS, PTE, PageTables, PRV_S, PRV_U, PRV_M, run } from './harness.js';
import { encode } from '../../src/isa/encode.js';
import { createMachine } from '../../src/machine.js';
import { linuxImage, sbi, SRST } from '../helpers/guest.js';
import {
  HS, MPV, CAUSE, enterV, GTables, VsTables, GRWX, GRW, RWX, RW, G_POOL, VS_POOL, PA_A, guest, insnProbes,
  routeTraps, trapHandlers, takenTrap, HTVAL_UNTOUCHED, HTINST_UNTOUCHED, type TrapTarget, type Taken,
} from './h-harness.js';

const { a0, a1, a2, a3, a4, a5, s0, s1, s2, s5, s6, s7, s8, sp, t0 } = R;
const { V, R: PR, W: PW, X: PX, U: PU, A: PA, D: PD } = PTE;
const NONE = -1n;

// ---------------------------------------------------------------------------------------
// 1. The two-stage fault matrix

type Access = 'fetch' | 'load' | 'store' | 'amo';
type Kind = 'vs-leaf' | 'vs-misaligned' | 'g-final' | 'g-misaligned' | 'g-pte' | 'g-ad';
type Size = 0 | 1 | 2; // the leaf's level: 4 KiB, 2 MiB, 1 GiB

const PF: Record<Access, number> = { fetch: CAUSE.FETCH_PF, load: CAUSE.LOAD_PF, store: CAUSE.STORE_PF, amo: CAUSE.STORE_PF };
const GPF: Record<Access, number> = { fetch: CAUSE.FETCH_GPF, load: CAUSE.LOAD_GPF, store: CAUSE.STORE_GPF, amo: CAUSE.STORE_GPF };
const SIZE_NAME = ['4 KiB', '2 MiB', '1 GiB'];
/** The VS page tables sit at physical VS_POOL, at guest physical VS_POOL + TBL_OFF (each page G-mapped on its own). */
const TBL_OFF = 0x1_0000_0000n;
/** Per leaf size: the VA of the leaf (Sv39; Sv48 adds 2^39: a root entry of its own), the accessed offset in it, GPA, PA. */
const VA_LEAF = [0x4020_3000n, 0x4060_0000n, 0xc000_0000n];
const OFF = [0x8n, 0x1_2348n, 0x2_1008n];
const GPA_LEAF = [0x2_0020_3000n, 0x2_0060_0000n, 0x3_0000_0000n];
const PA_LEAF = [PA_A, RAM + 0x20_0000n, RAM];
/** Where VU-mode runs the code (a U gigapage; VS-mode and its trap handler use RAM's own address, not U). */
const VU_ALIAS = 0x1_0000_0000n;

// The instruction of each access (rotated through the cases): s0 = address - 8, s1 = address
type Insn = [string, Record<string, number>];
const INSNS: Record<Exclude<Access, 'fetch'>, Insn[]> = {
  load: [['lw', { rd: a0, rs1: s0, imm: 8 }], ['ld', { rd: a3, rs1: s0, imm: 8 }], ['lhu', { rd: a2, rs1: s0, imm: 8 }], ['lb', { rd: a0, rs1: s0, imm: 8 }],
    ['lr.d', { rd: a2, rs1: s1 }]],
  store: [['sd', { rs1: s0, rs2: a1, imm: 8 }], ['sw', { rs1: s0, rs2: a2, imm: 8 }], ['sh', { rs1: s0, rs2: a1, imm: 8 }], ['sb', { rs1: s0, rs2: a3, imm: 8 }]],
  amo: [['amoor.w', { rd: a2, rs1: s1, rs2: a1 }], ['amoswap.d', { rd: a0, rs1: s1, rs2: a3 }], ['amoadd.d', { rd: a3, rs1: s1, rs2: a1 }], ['amomaxu.w', { rd: a0, rs1: s1, rs2: a2 }]],
};
/** Its transformed form (loads/stores: immediate zeroed; all: rs1 = the address offset, 0 here; LR and AMOs keep the rest). */
const transformed = ([n, ops]: Insn) => BigInt(encode(n, /^(amo|lr)/.test(n) ? { ...ops, rs1: 0 } : { ...ops, rs1: 0, imm: 0 }));

// How each location fails, by flavour (each VS/G mode pair takes the next one)
/** `u`: PU for a VU-mode access (its pages need U), else 0. */
const vsLeafFlavours = (access: Access, u: bigint): [string, bigint][] => [
  { fetch: ['no X', V | PR | PW | PA | PD | u], load: ['execute-only', V | PX | PA | PD | u], store: ['no W', V | PR | PX | PA | PD | u], amo: ['no W', V | PR | PA | PD | u] }[access] as [string, bigint],
  u ? ['not a U page', RWX] : ['U page', RWX | PU],
  ['invalid', 0n],
  ['W without R', V | PW | (access === 'load' ? 0n : PX) | PA | PD | u],
];
const G_LEAF_FLAVOURS: Record<Access, [string, bigint][]> = {
  fetch: [['no X', GRW], ['no U', GRWX & ~PU], ['invalid', 0n]],
  load: [['execute-only', V | PX | PU | PA | PD], ['no U', GRWX & ~PU], ['invalid', 0n]],
  store: [['no W', V | PR | PX | PU | PA | PD], ['no U', GRWX & ~PU], ['invalid', 0n]],
  amo: [['read-only', V | PR | PU | PA | PD], ['no U', GRWX & ~PU], ['invalid', 0n]],
};
/** The G-stage mapping of the page holding the VS PTE (read as an implicit load: R and U needed, MXR = 0). */
const G_TABLE_FLAVOURS: [string, bigint][] = [
  ['invalid', 0n], ['no U', GRW & ~PU], ['execute-only', V | PX | PU | PA | PD], ['W without R', V | PW | PU | PA | PD],
];
/** The VS leaf's A/D need an update (a store to its page, which the G-stage maps read-only); `u` as above. */
const adFlavours = (access: Access, u: bigint): [string, bigint][] => ({
  fetch: [['A = 0', V | PR | PX | u]],
  load: [['A = 0', V | PR | PW | u]],
  store: [['A = 0, D = 0', V | PR | PW | u], ['D = 0', V | PR | PW | PA | u]],
  amo: [['D = 0', V | PR | PW | PA | u], ['A = 0, D = 0', V | PR | PW | u]],
} as Record<Access, [string, bigint][]>)[access];
const G_READ_ONLY = V | PR | PU | PA | PD;

interface Case {
  name: string;
  vs: 3 | 4;
  g: 3 | 4;
  access: Access;
  size: Size;
  kind: Kind;
  /** g-pte: the VS level whose PTE read the G-stage refuses */
  level: number;
  flavour: [string, bigint];
  flavourIndex: number;
  insn?: Insn;
  /** where the trap is routed (routeTraps); `lands` where it is taken */
  to: TrapTarget;
  lands: TrapTarget;
  /** the faulting access's mode: VS (PRV_S) or VU (PRV_U) */
  prv: number;
  /** it is made by M-mode with MPRV = 1, MPV = 1, MPP = prv (see below) */
  fromM: boolean;
}

const MODES: [3 | 4, 3 | 4][] = [[3, 3], [4, 4], [3, 4], [4, 3]];
const modeName = (vs: number, g: number) => `Sv${vs === 3 ? 39 : 48} over Sv${g === 3 ? 39 : 48}x4`;
const levelName = (lv: number, top: number, leaf: number) => (lv === top ? 'root' : lv === leaf ? 'leaf' : `level-${lv}`) + ' PTE';

function matrix(): Case[] {
  const out: Case[] = [];
  let n = 0;
  for (const [m, [vs, g]] of MODES.entries()) {
    for (const access of ['fetch', 'load', 'store', 'amo'] as Access[]) {
      for (const size of [0, 1, 2] as Size[]) {
        // [where, VS level, its flavours for a VS-mode (u = 0) or VU-mode (u = PU) access]
        type Row = [Kind, number, (u: bigint) => [string, bigint][]];
        const rows: Row[] = [
          ['vs-leaf', size, (u) => vsLeafFlavours(access, u)],
          ['g-final', size, () => G_LEAF_FLAVOURS[access]],
          ...Array.from({ length: vs - size }, (_, k): Row => ['g-pte', vs - 1 - k, () => G_TABLE_FLAVOURS]),
          ['g-ad', size, (u) => adFlavours(access, u)],
        ];
        if (size > 0) rows.push(['vs-misaligned', size, (u) => [['PPN low bits set', RWX | u]]], ['g-misaligned', size, () => [['PPN low bits set', GRWX]]]);
        for (const [kind, level, flavoursOf] of rows) {
          // from VS or VU (n % 2) into M, HS or VS (n % 3): every pairing in each run of 6
          const prv = n % 2 ? PRV_U : PRV_S;
          const flavours = flavoursOf(prv === PRV_U ? PU : 0n);
          // The VS root table is read by every fetch: a G-stage fault on it can only be had by
          // a fetch (entering V=1 at the address), or by a data access of M-mode with MPRV = 1
          // and MPV = 1, translated as VS/VU-mode's (H chapter, "Machine Status Registers": MPRV).
          // Either way the trap is taken in M.
          const fromM = kind === 'g-pte' && level === vs - 1 && access !== 'fetch';
          const to: TrapTarget = fromM ? 'M' : (['M', 'HS', 'VS'] as const)[n % 3];
          const guestFault = kind.startsWith('g-');
          const lands: TrapTarget = fromM ? 'M' : to === 'VS' && guestFault ? 'HS' : to;
          // each mode pair takes another flavour: every flavour at each access, size and level
          const flavourIndex = (m + level) % flavours.length;
          const flavour = flavours[flavourIndex];
          const insn = access === 'fetch' ? undefined : INSNS[access][Math.floor(n / 2) % INSNS[access].length];
          const where = kind === 'g-pte' ? `G-stage fault on the ${levelName(level, vs - 1, size)} read`
            : kind === 'g-ad' ? 'G-stage fault on the A/D update' : kind === 'g-final' ? 'G-stage leaf' : kind === 'vs-leaf' ? 'VS leaf'
              : kind === 'vs-misaligned' ? 'misaligned VS superpage' : 'misaligned G superpage';
          const taken = fromM ? 'taken in M (made by M-mode with MPRV = 1, MPV = 1)' : lands === to ? `taken in ${lands}` : `taken in ${lands} (hedeleg cannot delegate it)`;
          out.push({
            name: `${modeName(vs, g)}, ${prv === PRV_U ? 'VU' : 'VS'} ${access}${insn ? ` (${insn[0]})` : ''}, ${SIZE_NAME[size]}: ${where} (${flavour[0]}) -> ${taken}`,
            vs, g, access, size, kind, level, flavour, flavourIndex, insn, to, lands, prv, fromM,
          });
          n++;
        }
      }
    }
  }
  return out;
}
const CASES = matrix();

/** The program of a case and the trap it must take. */
function build(c: Case): { p: Asm; want: (r: Awaited<ReturnType<typeof run>>) => Taken } {
  const p = new Asm();
  const g = new GTables(p, c.g, G_POOL);
  const vs = new VsTables(p, c.vs, VS_POOL, TBL_OFF);
  g.map(RAM, RAM, GRWX, 2); // code (and everything else in RAM), identity
  vs.map(RAM, RAM, RWX, 2); // VS-mode's code, and the VS trap handler
  const vu = c.prv === PRV_U;
  if (vu) vs.map(VU_ALIAS, RAM, RWX | PU, 2); // VU-mode's code: the same, at another VA on a U page
  const u = vu ? PU : 0n;
  const L = c.size;
  const va = (c.vs === 4 ? 1n << 39n : 0n) + VA_LEAF[L];
  const addr = va + OFF[L];
  const gpa = GPA_LEAF[L];
  // the data's leaf in each stage
  let vsFlags = RWX | u;
  let vsTarget = gpa;
  let gFlags = GRWX;
  let gTarget = PA_LEAF[L];
  if (c.kind === 'vs-leaf') vsFlags = c.flavour[1];
  if (c.kind === 'vs-misaligned') vsTarget += 0x1000n;
  if (c.kind === 'g-final') gFlags = c.flavour[1];
  if (c.kind === 'g-misaligned') gTarget += 0x1000n;
  if (c.kind === 'g-ad') vsFlags = c.flavour[1];
  vs.map(va, vsTarget, vsFlags, L);
  g.map(gpa, gTarget, gFlags, L);
  // the G-stage maps each VS table page on its own: GRW, but the one the case makes fail
  const pteAt = (lv: number) => vs.pteAddr(addr, lv); // physical; its GPA is + TBL_OFF
  const badPage = c.kind === 'g-pte' ? pteAt(c.level) & ~0xfffn : c.kind === 'g-ad' ? pteAt(L) & ~0xfffn : -1n;
  const badFlags = c.kind === 'g-pte' ? c.flavour[1] : G_READ_ONLY;
  for (const page of vs.pages) g.map(page + TBL_OFF, page, page === badPage ? badFlags : GRW);

  p.openPmp().csrwv(CSR.hgatp, g.hgatp).csrwv(CSR.vsatp, vs.satp);
  routeTraps(p, c.to, [PF[c.access], GPF[c.access]]);
  p.li(s0, addr - 8n).li(s1, addr).li(a1, 0x77).li(a2, 0x66).li(a3, 0x55);
  if (c.fromM) {
    p.csrcv(CSR.mstatus, MS.MPP).csrsv(CSR.mstatus, MPV | MS.MPRV | (BigInt(c.prv) << 11n));
    p.label('bad').i(c.insn![0], c.insn![1]);
  } else if (c.kind === 'g-pte' && c.level === c.vs - 1) {
    // a fetch: V=1 starts at the address
    p.csrsv(CSR.mstatus, MPV).csrcv(CSR.mstatus, MS.MPP).csrsv(CSR.mstatus, BigInt(c.prv) << 11n).csrw(CSR.mepc, s1).i('mret');
  } else if (vu) {
    // into VU at 'low' seen through VU_ALIAS
    p.la(a4, 'low').li(a5, VU_ALIAS - RAM).i('add', { rd: a4, rs1: a4, rs2: a5 });
    p.csrsv(CSR.mstatus, MPV).csrcv(CSR.mstatus, MS.MPP).csrw(CSR.mepc, a4).i('mret');
  } else enterV(p, PRV_S, 'low');
  if (!c.fromM) {
    p.label('low').label('bad');
    if (c.access === 'fetch') p.i('jalr', { rd: 0, rs1: s1, imm: 0 });
    else p.i(c.insn![0], c.insn![1]);
  }
  p.label('end').i('ecall'); // not reached
  trapHandlers(p);

  const guestFault = c.kind.startsWith('g-');
  const tval2 = c.kind === 'g-pte' ? (pteAt(c.level) + TBL_OFF) >> 2n
    : c.kind === 'g-ad' ? (pteAt(L) + TBL_OFF) >> 2n
      : guestFault ? (gpa + OFF[L]) >> 2n : 0n;
  // htinst/mtinst: a pseudo-instruction for the walk's implicit accesses (required: htval is
  // nonzero), the transformed instruction for the access itself (a fetch has none), else 0
  const tinst = c.kind === 'g-pte' ? 0x3000n : c.kind === 'g-ad' ? 0x3020n
    : guestFault && c.insn ? transformed(c.insn) : 0n;
  return {
    p,
    want: (r) => {
      const epc = c.access === 'fetch' ? addr : c.fromM || !vu ? r.addr('bad') : r.addr('bad') - RAM + VU_ALIAS;
      const cause = BigInt(guestFault ? GPF[c.access] : PF[c.access]);
      if (c.lands === 'VS') {
        return { to: 'VS', cause, epc, tval: addr, tval2: HTVAL_UNTOUCHED, tinst: HTINST_UNTOUCHED, gva: false, v: true, prv: c.prv };
      }
      return { to: c.lands, cause, epc, tval: addr, tval2, tinst, gva: true, v: !c.fromM, prv: c.fromM ? PRV_M : c.prv };
    },
  };
}

describe('two-stage fault matrix', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const { p, want } = build(c);
    const r = await run(p);
    expect(takenTrap(r, c.lands)).toEqual(want(r));
  });

  it('covers every fault location with each mode that can take it, and each leaf size', () => {
    const seen = new Set(CASES.map((c) => `${c.kind} ${c.prv} ${c.lands} ${c.fromM}`));
    for (const kind of ['vs-leaf', 'vs-misaligned', 'g-final', 'g-misaligned', 'g-pte', 'g-ad']) {
      for (const prv of [PRV_S, PRV_U]) {
        for (const to of kind.startsWith('vs') ? ['M', 'HS', 'VS'] : ['M', 'HS']) expect(seen, `${kind} ${prv} ${to}`).toContain(`${kind} ${prv} ${to} false`);
      }
    }
    expect(seen).toContain(`g-pte ${PRV_S} M true`);
    expect(seen).toContain(`g-pte ${PRV_U} M true`);
    // a fault on each VS level's PTE for each VS mode and access; superpage permission faults in both stages
    for (const [vs] of MODES) {
      for (const access of ['fetch', 'load', 'store', 'amo']) {
        for (let lv = 0; lv < vs; lv++) expect(CASES.some((c) => c.vs === vs && c.access === access && c.kind === 'g-pte' && c.level === lv)).toBe(true);
      }
    }
    // every flavour of each failing leaf (or refused table page) at each size, e.g. a 2 MiB G-stage leaf without U
    const count = { 'vs-leaf': 4, 'g-final': 3, 'g-pte': G_TABLE_FLAVOURS.length } as Record<string, number>;
    for (const c of CASES.filter((x) => x.kind in count)) {
      const got = new Set(CASES.filter((x) => x.kind === c.kind && x.access === c.access && x.size === c.size && x.level === c.level).map((x) => x.flavourIndex));
      expect(got.size, `${c.kind} ${c.access} ${SIZE_NAME[c.size]} level ${c.level}`).toBe(Math.min(count[c.kind], MODES.filter(([vs]) => vs > c.level).length));
    }
    expect(CASES.length).toBeGreaterThan(300);
  });
});

describe('two-stage walk corners next to the matrix', () => {
  const VA = 0x4020_3000n;
  const GPA_T = 0x2_0000_0000n;
  const GPA_X = 0x1_0000_0000n;
  const PA_T = RAM + 0x3_0000n;
  const idx = (VA >> 12n) & 0x1ffn;
  it('a store to a read-only VS leaf with A = 0 in a table the G-stage maps read-only: the page fault (15) comes first, no A/D update is tried', async () => {
    // Sv39 algorithm: the leaf's permissions are checked (step 5) before A/D are updated
    const p = guest((vs, g) => {
      vs!.raw(VA, PageTables.pte(GPA_T, V), 1);
      g!.map(GPA_T, PA_T, G_READ_ONLY);
      g!.map(GPA_X, PA_A, GRW);
    }, (q) => q.li(s0, VA).label('bad').i('sd', { rs1: s0, rs2: s0, imm: 0 }), { vs: 3, g: 3 });
    p.poke64(PA_T + 8n * idx, PageTables.pte(GPA_X, V | PR));
    const r = await run(p);
    expect(takenTrap(r, 'M')).toEqual({ to: 'M', cause: 15n, epc: r.addr('bad'), tval: VA, tval2: 0n, tinst: 0n, gva: true, v: true, prv: PRV_S });
  });
  it('VS tables at guest physical addresses beyond Sv39x4 (bit 41 up): guest-page faults on the PTE read, htval = its GPA >> 2, 0x3000', async () => {
    const far = 1n << 42n;
    // a non-leaf PTE pointing there: the load's walk faults on the level-0 PTE read
    const p = guest((vs) => vs!.raw(VA, PageTables.pte(far, V), 1), (q) => q.li(s0, VA).label('bad').i('ld', { rd: a0, rs1: s0, imm: 0 }), { vs: 3, g: 3 });
    const r = await run(p);
    expect(takenTrap(r, 'M')).toEqual({
      to: 'M', cause: 21n, epc: r.addr('bad'), tval: VA, tval2: (far + 8n * idx) >> 2n, tinst: 0x3000n, gva: true, v: true, prv: PRV_S,
    });
    // vsatp's root there: the first fetch in V=1 faults on the root PTE read
    const q = guest(() => {}, (x) => x.nop(), { vs: 3, g: 3, setup: (x) => x.csrwv(CSR.vsatp, (8n << 60n) | (far >> 12n)) });
    const r2 = await run(q);
    const low = r2.addr('low');
    expect(takenTrap(r2, 'M')).toEqual({
      to: 'M', cause: 20n, epc: low, tval: low, tval2: (far + 8n * ((low >> 30n) & 0x1ffn)) >> 2n, tinst: 0x3000n, gva: true, v: true, prv: PRV_S,
    });
  });
});

// ---------------------------------------------------------------------------------------
// 2. FP loads and stores on a guest-page fault: the transformed instruction

describe('FP loads and stores on a G-stage fault: mtinst/htinst', () => {
  const VA = 0x4020_3000n;
  const GPA = 0x1_0000_0000n;
  /** [instruction, base register, to]: each accesses VA + 8 (its base register = VA + 8 - imm) */
  const cases: [Insn, number, TrapTarget][] = [
    [['flw', { frd: 5, rs1: s0, imm: 8 }], s0, 'M'],
    [['fld', { frd: 6, rs1: s0, imm: -8 }], s0, 'HS'],
    [['fsw', { rs1: s0, frs2: 7, imm: 12 }], s0, 'M'],
    [['fsd', { rs1: s0, frs2: 31, imm: 2040 }], s0, 'HS'],
    [['c.fld', { rd: 9, rs1: s0, imm: 8 }], s0, 'M'],
    [['c.fsd', { rs1: s1, rs2: 10, imm: 16 }], s1, 'HS'],
    [['c.fldsp', { rd: 11, imm: 24 }], sp, 'HS'],
    [['c.fsdsp', { rs2: 12, imm: 8 }], sp, 'M'],
  ];
  it.each(cases.map((c) => [c[0][0], ...c] as const))('%s', async (_, insn, base, to) => {
    const [name, ops] = insn;
    const p = guest((vs, g) => {
      vs!.map(VA, GPA, RW);
      g!.map(GPA + 0x1000n, PA_A, GRW); // GPA itself invalid, in an existing leaf table
    }, (q) => {
      q.li(base, VA + 8n - BigInt(ops.imm)).label('bad').i(name, ops);
      if (name.startsWith('c.')) q.nop();
    }, { vs: 3, g: 3, setup: (q) => routeTraps(q.fpOn().csrwv(CSR.vsstatus, 1n << 13n), to, [21, 23]) });
    trapHandlers(p);
    const r = await run(p);
    // the base instruction (a compressed one's 32-bit expansion, then bit 1 cleared) with
    // rs1 = 0 and the immediate zeroed: FP loads keep rd (frd), FP stores rs2 (frs2)
    const isStore = name.includes('fs');
    const baseName = name.replace('c.', '').replace('sp', '');
    const baseOps: Record<string, number> = isStore ? { rs1: 0, frs2: ops.rs2 ?? ops.frs2, imm: 0 } : { frd: ops.rd ?? ops.frd, rs1: 0, imm: 0 };
    const tinst = BigInt(encode(baseName, baseOps)) & (name.startsWith('c.') ? ~2n : ~0n);
    expect(takenTrap(r, to)).toEqual({
      to, cause: BigInt(isStore ? CAUSE.STORE_GPF : CAUSE.LOAD_GPF), epc: r.addr('bad'), tval: VA + 8n,
      tval2: (GPA + 8n) >> 2n, tinst, gva: true, v: true, prv: PRV_S,
    });
  });
  it('a misaligned fsd/fld whose second part the G-stage refuses: the address offset is in rs1', async () => {
    for (const [name, ops] of [['fsd', { rs1: s0, frs2: 3, imm: 0 }], ['fld', { frd: 4, rs1: s0, imm: 0 }]] as Insn[]) {
      const p = guest((vs, g) => {
        vs!.map(VA, GPA, RW);
        vs!.map(VA + 0x1000n, GPA + 0x1000n, RW);
        g!.map(GPA, PA_A, GRW);
      }, (q) => q.li(s0, VA + 0xffcn).label('bad').i(name, ops), { vs: 3, g: 3, setup: (q) => q.fpOn().csrwv(CSR.vsstatus, 1n << 13n) });
      const r = await run(p);
      const t = takenTrap(r, 'M');
      expect(t.cause, name).toBe(BigInt(name === 'fsd' ? CAUSE.STORE_GPF : CAUSE.LOAD_GPF));
      // mtval: the faulting portion's VA (VA + 0x1000 or, as for a regular page fault, the
      // original address); mtval2 its GPA; the offset field the difference from the original
      expect(t.tval >= VA + 0xffcn && t.tval <= VA + 0x1000n, name).toBe(true);
      expect(t.tval2, name).toBe((GPA + t.tval - VA) >> 2n);
      expect(t.tinst, name).toBe(BigInt(encode(name, { ...ops, rs1: 0 })) | ((t.tval - (VA + 0xffcn)) << 15n));
    }
  });
});

describe('FP loads and stores of a device register under the hw-assist VMM (emulated from htinst)', () => {
  it('flw/fsw and c.fld/c.fsd: the VMM completes them from the transformed instruction; FS becomes Dirty', async () => {
    const PLIC_PRIO = 0x0c00_0004n; // PLIC source priorities: 32-bit registers the G-stage leaves unmapped
    const kernel = linuxImage((p) => {
      p.la(t0, 'handler').i('csrrw', { rd: 0, rs1: t0, csr: CSR.stvec });
      p.li(t0, 1n << 13n).i('csrrs', { rd: 0, rs1: t0, csr: CSR.sstatus }); // FS = Initial (the guest's vsstatus)
      p.li(s0, PLIC_PRIO).li(a0, 5).i('sw', { rs1: s0, rs2: a0, imm: 0 });
      p.i('flw', { frd: 1, rs1: s0, imm: 0 }).i('fmv.x.d', { rd: s1, frs1: 1 }); // NaN-boxed
      p.li(a0, 3).i('fmv.w.x', { frd: 2, rs1: a0 }).i('fsw', { rs1: s0, frs2: 2, imm: 4 }).i('lw', { rd: s5, rs1: s0, imm: 4 });
      p.li(a0, 6).i('fmv.d.x', { frd: 9, rs1: a0 }).i('c.fsd', { rs1: s0, rs2: 9, imm: 8 }); // an 8-byte store: sources 3 and 4
      p.i('lw', { rd: s6, rs1: s0, imm: 8 });
      // FS = Clean: only the emulated load's write of f10 can make it Dirty again
      p.li(t0, 1n << 13n).i('csrrc', { rd: 0, rs1: t0, csr: CSR.sstatus });
      p.i('c.fld', { rd: 10, rs1: s0, imm: 8 }).i('csrrs', { rd: s8, rs1: 0, csr: CSR.sstatus }).i('fmv.x.d', { rd: s7, frs1: 10 });
      sbi(p, SRST, 0, 0, 0);
      p.align(4).label('handler').i('csrrs', { rd: s2, rs1: 0, csr: CSR.scause });
      sbi(p, SRST, 0, 0, 0);
    });
    const m = await createMachine({ type: 'hw-assist', memory: 16n << 20n, kernel });
    const r = await m.run();
    const x = (i: number) => m.core.x(i);
    expect(r.reason).toBe('poweroff');
    expect(x(s2), 'no trap reached the guest').toBe(0n);
    expect(x(s1)).toBe(0xffff_ffff_0000_0005n);
    expect(x(s5)).toBe(3n);
    expect(x(s6)).toBe(6n);
    expect(x(s7)).toBe(6n); // the PLIC's 64-bit read: sources 3 and 4 (4 still 0)
    expect(x(s8) & MS.FS, 'sstatus.FS after the emulated c.fld').toBe(MS.FS);
    expect(r.stats.hvMmio).toBe(7n);
  });
});

// ---------------------------------------------------------------------------------------
// 3. CSR writes from VS and VU: virtual instruction (22) when HS-mode could make the same
// access (assuming mstatus.TVM = 0), illegal instruction (2) otherwise, or allowed

describe('CSR writes and read-modify-writes with V=1 (H chapter, "Virtual Instruction Exception")', () => {
  const w = (csr: string): Insn => ['csrrw', { rd: a0, rs1: a1, csr: CSR[csr] }];
  /** csrrs/csrrc with rs1 != x0 write, whatever the register holds (a1 = 0 here) */
  const rs = (csr: string): Insn => ['csrrs', { rd: a0, rs1: a1, csr: CSR[csr] }];
  const rc = (csr: string): Insn => ['csrrc', { rd: a0, rs1: a1, csr: CSR[csr] }];
  const read = (csr: string): Insn => ['csrrs', { rd: a0, rs1: 0, csr: CSR[csr] }];
  const imm = (op: string, csr: string, v: number): Insn => [op, { rd: a0, imm: v, csr: CSR[csr] }];
  type Row = [Insn, bigint];
  const H_AND_VS = ['hstatus', 'hgatp', 'vsatp', 'hedeleg', 'hideleg', 'hvip', 'hip', 'hie', 'htval', 'htinst', 'hcounteren',
    'htimedelta', 'henvcfg', 'hgeie', 'vsstatus', 'vsie', 'vstvec', 'vsscratch', 'vsepc', 'vscause', 'vstval', 'vsip'];
  const S_CSRS = ['sstatus', 'sie', 'stvec', 'scounteren', 'senvcfg', 'sscratch', 'sepc', 'scause', 'stval', 'sip', 'satp'];
  const M_ROWS: Row[] = [
    [rs('mstatus'), 2n], [w('mscratch'), 2n], [w('mtval2'), 2n], [imm('csrrci', 'mtinst', 1), 2n], [rc('medeleg'), 2n],
    [rs('pmpcfg0'), 2n], [rs('mtvec'), 2n],
    [w('mhartid'), 2n], // read-only as well
  ];
  /** Probe each row from (prv, V=1) after `setup` (a1 = 0); check the cause and, when trapping, mtval = the instruction. */
  async function check(prv: number, rows: Row[], setup: (p: Asm) => void = () => {}) {
    const res = await insnProbes(prv, true, rows.map((r) => r[0]), (p) => setup(p.li(a1, 0)));
    res.forEach(([cause, tval], k) => {
      const [[n, ops], want] = rows[k];
      const what = `${n} ${Object.entries(ops).map(([f, v]) => `${f}=${f === 'csr' ? `0x${v.toString(16)}` : v}`).join(' ')}`;
      expect(cause, what).toBe(want);
      if (cause >= 0n) expect(tval, what).toBe(BigInt(encode(n, ops)));
    });
  }

  it('from VS: writes of hypervisor and VS CSRs (csrrw, csrrs/csrrc with rs1 != x0, csrrwi/csrrsi) raise virtual instruction', async () => {
    await check(PRV_S, [
      ...H_AND_VS.map((c): Row => [w(c), 22n]),
      [rs('hedeleg'), 22n], [rc('hideleg'), 22n], [rs('hstatus'), 22n], [rc('vsatp'), 22n],
      [imm('csrrwi', 'hvip', 0), 22n], [imm('csrrsi', 'hie', 4), 22n], [imm('csrrci', 'vsstatus', 2), 22n],
    ]);
  });
  it('from VS: a write of read-only hgeip, mhartid or cycle is illegal (not HS-qualified); their reads differ', async () => {
    await check(PRV_S, [
      [rs('hgeip'), 2n], [w('hgeip'), 2n], [read('hgeip'), 22n],
      [w('cycle'), 2n], [rs('cycle'), 2n], [imm('csrrsi', 'instret', 1), 2n],
      [w('mhartid'), 2n], [read('mhartid'), 2n],
    ], (p) => p.csrwv(CSR.mcounteren, -1).csrwv(CSR.hcounteren, 0));
    // cycle with hcounteren = 0: read virtual, write illegal; with hcounteren = 1: read allowed, write still illegal
    await check(PRV_S, [[read('cycle'), 22n], [rs('cycle'), 2n]], (p) => p.csrwv(CSR.mcounteren, -1).csrwv(CSR.hcounteren, 0));
    await check(PRV_S, [[read('cycle'), NONE], [rs('cycle'), 2n], [w('time'), 2n]], (p) => p.csrwv(CSR.mcounteren, -1).csrwv(CSR.hcounteren, -1));
  });
  it('from VS: writes of M CSRs are illegal', async () => {
    await check(PRV_S, M_ROWS);
  });
  it('from VS: S CSRs (the VS ones behind them) are writable, by every form', async () => {
    await check(PRV_S, [
      ...S_CSRS.map((c): Row => [w(c), NONE]), ...S_CSRS.map((c): Row => [rs(c), NONE]),
      [rc('sstatus'), NONE], [imm('csrrsi', 'sscratch', 5), NONE], [imm('csrrci', 'sie', 2), NONE],
    ]);
  });
  it('from VS: hstatus.VTVM = 1 makes satp (any access) virtual; mstatus.TVM = 1 leaves satp alone, and hgatp stays virtual', async () => {
    await check(PRV_S, [[w('satp'), 22n], [rs('satp'), 22n], [rc('satp'), 22n], [read('satp'), 22n], [w('sscratch'), NONE]],
      (p) => p.csrwv(CSR.hstatus, HS.VTVM));
    await check(PRV_S, [[w('satp'), NONE], [rs('satp'), NONE], [w('hgatp'), 22n], [rs('hgatp'), 22n], [w('vsatp'), 22n]],
      (p) => p.csrsv(CSR.mstatus, MS.TVM));
  });
  it('from VS and VU: FP CSR writes with vsstatus.FS = 0 are illegal, never virtual', async () => {
    const fp: Row[] = [[w('fcsr'), 2n], [imm('csrrsi', 'fflags', 1), 2n], [rs('frm'), 2n]];
    await check(PRV_S, fp, (p) => p.fpOn());
    await check(PRV_U, fp, (p) => p.fpOn());
    await check(PRV_S, fp.map(([i]): Row => [i, NONE]), (p) => p.fpOn().csrwv(CSR.vsstatus, 1n << 13n));
  });
  it('from VU: writes of S, hypervisor and VS CSRs raise virtual instruction, even satp with VTVM = 0', async () => {
    await check(PRV_U, [
      ...S_CSRS.map((c): Row => [w(c), 22n]),
      [rs('sstatus'), 22n], [rc('sie'), 22n], [imm('csrrsi', 'sie', 2), 22n], [imm('csrrwi', 'sscratch', 0), 22n], [rs('satp'), 22n],
      [w('hstatus'), 22n], [rs('hgatp'), 22n], [w('vsatp'), 22n], [w('vsstatus'), 22n], [imm('csrrci', 'htval', 1), 22n],
    ]);
  });
  it('from VU: writes of M CSRs and of read-only CSRs are illegal', async () => {
    await check(PRV_U, [...M_ROWS, [rs('hgeip'), 2n], [read('hgeip'), 22n], [w('cycle'), 2n]], (p) => p.csrwv(CSR.mcounteren, -1));
  });
});

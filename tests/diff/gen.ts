// Random but valid RV64GC programs from a seed, for differential testing against QEMU.
//
// A program is: a jump to the prologue; an M-mode trap handler (and an S-mode one) at fixed
// addresses; the prologue, which sets every x and f register, fcsr, the scratch memory and
// the CSRs under test from a data table; the body, a list of steps (a step is a few
// instructions that belong together: `li` of an operand and the instruction under test, a
// branch and what it skips, an LR/SC pair); and the epilogue, which stores every register
// and the chosen CSRs, prints them with the scratch memory and the trap log as hex lines on
// the UART, and powers off through the SiFive test device.
//
// program.build(n) lays out the same program with only the first n body steps: the unit of
// bisection. Steps never branch outside themselves, so every prefix is a valid program.
import { CSRS } from '../../src/isa/opcodes.js';
import { encode } from '../../src/isa/encode.js';
import { assemble, ins, li, la, type Item, type Step, type Layout } from './asm.js';
import { Rng } from './prng.js';
import { int64, fReg, f64, f32 } from './values.js';

// ---- memory map of a generated program
export const CODE = 0x8000_0000n;
export const HANDLER_M = CODE + 0x40n;
export const HANDLER_S = CODE + 0x300n;
/** the VS-mode handler (`vstvec`; the hypervisor flavour delegates to it through hedeleg) */
export const HANDLER_VS = CODE + 0x500n;
export const INIT = CODE + 0x700n;
/** gp points here: the handlers' save area (t0, t1, t2, log pointer) and the register dump */
export const GP = 0x8010_0000n;
const LOGPTR_OFF = 24;
const DUMP_OFF = 0x40; // x_i at DUMP_OFF + 8 i, then the CSRs, fcsr, f0..f31
/**
 * trap log: 8 dwords per trap: where it was taken (3 = M, 1 = HS, 2 = VS), cause, epc, tval,
 * tval2 (mtval2/htval), tinst (mtinst/htinst), the status bits the trap wrote (M: mstatus MPV,
 * GVA, MPP; HS: hstatus SPV, SPVP, GVA and sstatus.SPP; VS: vsstatus.SPP) and a zero
 */
export const LOG = GP + 0x800n;
export const LOG_ENTRY = 64;
export const LOG_END = GP + 0x3f00n;
/** loads and stores go here: 256 bytes across a page boundary */
export const SCRATCH = 0x8010_3f80n;
export const SCRATCH_SIZE = 256;
/** page tables of the paging flavour (two roots: S-mode's and U-mode's) */
export const PT_BASE = 0x8020_0000n;
/** the paging flavour maps a gigapage at this virtual address onto 0x8000_0000 */
export const ALIAS = 0xc000_0000n;
/** bytes of RAM from 0x8000_0000 that a program may touch (the runner clears them) */
export const TOUCHED = 0x21_0000;
/** what the handler recognises (in t6, with an ECALL) as "return to M-mode" */
export const MAGIC = 0x5ec0de5n;

const UART = 0x1000_0000n;
const TEST_DEV = 0x10_0000n;
const MTIMECMP = 0x200_4000n;

export const FLAVOURS = ['integer', 'fp', 'compressed', 'atomics', 'traps', 'csr', 'privilege', 'paging', 'mixed', 'hypervisor'] as const;
export type Flavour = (typeof FLAVOURS)[number];

/** flavours whose body is made of blocks in other privilege modes, left with the magic trap */
function blocky(f: Flavour): boolean {
  return f === 'privilege' || f === 'paging' || f === 'hypervisor';
}

// register numbers
const ZERO = 0, RA = 1, SP = 2, GPR = 3, T0 = 5, T1 = 6, T2 = 7, A0 = 10, A1 = 11, T3 = 28, T4 = 29, T5 = 30, T6 = 31;

// ---- CSRs: which are compared, and what values software may write to them
//
// Random values keep WPRI fields zero (software must), keep the harness alive (no MIE, no
// MPRV, no locked PMP entries, trap vectors restored), and avoid the documented points where
// QEMU 7.2 and the spec (or wasmvisor's documented choices) part: see docs/differential-testing.md.
interface CsrSpec {
  name: string;
  num: number;
  /** bits a random write may set (others written as zero) */
  mask: bigint;
  /** bits a random write always carries (multi-bit fields held at one legal value) */
  fixed?: bigint;
  /** a write must be undone in the same step (the harness depends on it) */
  restore?: bigint;
  /** multi-bit fields CSRRS/CSRRC must leave alone (they could make a reserved value) */
  rmwKeep?: bigint;
  /** make a CSRRW value legal (reserved field values QEMU 7.2 would store) */
  legal?: (v: bigint) => bigint;
  /** the flavours that write it (default: every flavour with CSR steps) */
  only?: Flavour[];
  /**
   * written only by CSRRW: QEMU 7.2 applies CSRRS/CSRRC's mask to vsie/vsip unshifted (the
   * bits land one position too low in hie/hip)
   */
  noRmw?: boolean;
}

const MSTATUS_DEFINED = 0x8000_003f_007f_ffean; // SIE..TSR, UXL, SXL, SBE, MBE, SD: WPRI bits zero
const MSTATUS_MPP = 3n << 11n;
const MSTATUS_MIE = 1n << 3n, MSTATUS_MPRV = 1n << 17n, MSTATUS_VS = 3n << 9n, MSTATUS_TSR = 1n << 22n;
const XL_FIELDS = 0xf_0000_0000n; // UXL, SXL
const XL_RV64 = 0xa_0000_0000n;
const M64 = (1n << 64n) - 1n;
/** pmpaddr on RV64 holds physical address bits 55:2; bits 63:54 are zero */
const PMPADDR_MASK = (1n << 54n) - 1n;

/**
 * FS only Off or Dirty: QEMU 7.2 leaves FS at Initial/Clean when an instruction changes only
 * fflags (FLT, FCVT.W, ...), wasmvisor may set Dirty (conservatively, as the spec allows)
 */
const MSTATUS_FS = 3n << 13n;
/**
 * A trap handler's "return past the trapping instruction": xepc += its length (2 or 4, from
 * the low bits of its first halfword). Clobbers t0-t2.
 */
function skipInsn(i: Item[], epc: number): void {
  i.push(ins('csrrs', { rd: T0, rs1: ZERO, csr: epc }));
  i.push(ins('lhu', { rd: T1, rs1: T0, imm: 0 }), ins('andi', { rd: T1, rs1: T1, imm: 3 }));
  i.push(ins('addi', { rd: T0, rs1: T0, imm: 2 }), ins('addi', { rd: T2, rs1: ZERO, imm: 3 }));
  const toShort = i.length;
  i.push(ins('bne', { rs1: T1, rs2: T2 }, { local: 0 }));
  i.push(ins('addi', { rd: T0, rs1: T0, imm: 2 }));
  (i[toShort] as { ref: unknown }).ref = { local: i.length };
  i.push(ins('csrrw', { rd: ZERO, rs1: T0, csr: epc }));
}

function fsOffOrDirty(v: bigint): bigint {
  return v & MSTATUS_FS ? v | MSTATUS_FS : v;
}

/** in each byte, R=0 W=1 becomes R=1 W=1 */
function pmpcfgLegal(v: bigint): bigint {
  for (let b = 0n; b < 64n; b += 8n) if (((v >> b) & 3n) === 2n) v |= 1n << b;
  return v;
}

const MSTATUS_TW = 1n << 21n;
const MSTATUS_TVM = 1n << 20n;
/** the exceptions whose tval is an address (misaligned, access and page faults, guest-page faults) */
const ADDRESS_CAUSES = [0, 1, 4, 5, 6, 7, 12, 13, 15, 20, 21, 23].reduce((m, c) => m | (1n << BigInt(c)), 0n);
const MSTATUS_MPV_GVA = 3n << 38n;
/** hstatus: GVA, SPV, SPVP, HU; VTVM, VTW, VTSR; VSXL (bits 33:32) held at 2 */
const HSTATUS_BASIC = 0x3c0n;
const HSTATUS_VT = 7n << 20n;
const HSTATUS_GVA = 1n << 6n;
/**
 * hedeleg in the hypervisor flavour: not 2 (illegal instruction) nor 6 (store misaligned):
 * QEMU 7.2 reports them to VS-mode as 1 and 5 (it applies the VS-interrupt cause adjustment,
 * VSSI 2 -> SSI 1, to exceptions too; docs/differential-testing.md)
 */
const HEDELEG_HYP = 0xb1ffn & ~0x44n;
const VSXL_FIELD = 3n << 32n;

function csrSpecs(flavour: Flavour): CsrSpec[] {
  const priv = blocky(flavour);
  const hyp = flavour === 'hypervisor';
  const H: Flavour[] = ['csr', 'hypervisor'];
  // hypervisor: TW never (WFI must trap where it is generated), nor TVM (QEMU 7.2 applies it to
  // SFENCE.VMA in VS-mode too); MPV and GVA random (in csr too)
  const mstatusMask = (MSTATUS_DEFINED | (hyp || flavour === 'csr' ? MSTATUS_MPV_GVA : 0n)) & ~MSTATUS_MIE & ~MSTATUS_MPRV & ~MSTATUS_VS &
    ~XL_FIELDS & ~(priv ? MSTATUS_TSR : 0n) & ~(hyp ? MSTATUS_TW | MSTATUS_TVM : 0n);
  return [
    // (hypervisor: FS always Dirty in mstatus: after V=1, QEMU 7.2 can show mstatus.SD = 1 with
    // FS = Off, a summary left over from vsstatus; docs)
    {
      name: 'mstatus', num: CSRS.mstatus, mask: mstatusMask, fixed: XL_RV64 | (hyp ? MSTATUS_FS : 0n), rmwKeep: MSTATUS_MPP | XL_FIELDS | (hyp ? MSTATUS_FS : 0n),
      legal: (v) => fsOffOrDirty((v & MSTATUS_MPP) === 2n << 11n ? v | MSTATUS_MPP : v),
    },
    {
      name: 'sstatus', num: CSRS.sstatus, mask: 0x8000_0000_000c_6122n, fixed: 0x2_0000_0000n | (hyp ? MSTATUS_FS : 0n),
      rmwKeep: XL_FIELDS | (hyp ? MSTATUS_FS : 0n), legal: fsOffOrDirty,
    },
    // with H, bits 10 (VS ECALL) and 20-23 (guest-page faults, virtual instruction) are writable too
    // (hypervisor: everything but 3, EBREAK, which ends a block, and 11)
    { name: 'medeleg', num: CSRS.medeleg, mask: hyp ? 0xf0_b7f7n : priv ? 0xb0ffn : 0xf0_b7ffn },
    // interrupts: only the software-writable pending bits; in the privilege flavour only SSIP
    // (which either handler can clear), and they are taken as soon as S/U-mode enables them
    // (hypervisor: also VSSIP, which every handler clears)
    { name: 'mideleg', num: CSRS.mideleg, mask: 0x222n, only: ['csr', 'mixed', 'privilege', 'hypervisor'] },
    // with H, mie.VSSIE/VSTIE/VSEIE and mip.VSSIP are writable (M-mode never takes them: they
    // go to HS, and the privilege flavour keeps to the S and M bits)
    { name: 'mie', num: CSRS.mie, mask: hyp ? 0xaaen : priv ? 0xaaan : 0xeeen, only: ['csr', 'mixed', 'privilege', 'hypervisor'] },
    { name: 'mip', num: CSRS.mip, mask: hyp ? 0x6n : priv ? 0x2n : 0x226n, only: ['csr', 'mixed', 'privilege', 'hypervisor'] },
    { name: 'sie', num: CSRS.sie, mask: 0x222n, only: ['csr', 'mixed', 'privilege', 'hypervisor'] },
    { name: 'sip', num: CSRS.sip, mask: priv ? 0x2n : 0x222n, only: ['csr', 'mixed', 'privilege', 'hypervisor'] },
    { name: 'mtvec', num: CSRS.mtvec, mask: M64, restore: HANDLER_M },
    { name: 'stvec', num: CSRS.stvec, mask: M64, restore: HANDLER_S },
    { name: 'mscratch', num: CSRS.mscratch, mask: M64 },
    { name: 'sscratch', num: CSRS.sscratch, mask: M64 },
    { name: 'mepc', num: CSRS.mepc, mask: M64 - 1n },
    { name: 'sepc', num: CSRS.sepc, mask: M64 - 1n },
    { name: 'mcause', num: CSRS.mcause, mask: M64 },
    { name: 'scause', num: CSRS.scause, mask: M64 },
    { name: 'mtval', num: CSRS.mtval, mask: M64 },
    { name: 'stval', num: CSRS.stval, mask: M64 },
    { name: 'satp', num: CSRS.satp, mask: 0n },
    { name: 'mcounteren', num: CSRS.mcounteren, mask: 0xffff_ffffn },
    { name: 'scounteren', num: CSRS.scounteren, mask: 0xffff_ffffn },
    { name: 'menvcfg', num: CSRS.menvcfg, mask: 1n },
    { name: 'senvcfg', num: CSRS.senvcfg, mask: 1n },
    { name: 'mcountinhibit', num: CSRS.mcountinhibit, mask: 0xffff_fffdn },
    // no L (M-mode must keep its memory), bits 6:5 zero (reserved), never R=0 W=1 (reserved):
    // QEMU 7.2 stores both reserved patterns, see the docs
    { name: 'pmpcfg0', num: CSRS.pmpcfg0, mask: 0x1f1f_1f1f_1f1f_1f1fn, only: ['csr'], rmwKeep: M64, legal: pmpcfgLegal },
    { name: 'pmpcfg2', num: CSRS.pmpcfg2, mask: 0x1f1f_1f1f_1f1f_1f1fn, only: ['csr'], rmwKeep: M64, legal: pmpcfgLegal },
    ...Array.from({ length: 4 }, (_, i) => ({ name: `pmpaddr${i}`, num: CSRS.pmpaddr0 + i, mask: PMPADDR_MASK, only: ['csr'] as Flavour[] })),
    // ---- the H extension: only the defined fields (QEMU 7.2 stores any hstatus bits, VGEIN
    // included; hie.SGEIE; 64-bit hcounteren; henvcfg's CBIE/CBCFE/CBZE/PBMTE; vsstatus WPRI
    // bits; vsepc[0]: docs/differential-testing.md); VTVM/VTW/VTSR in the hypervisor flavour only
    // from block entries (the generator tracks them)
    {
      name: 'hstatus', num: CSRS.hstatus, mask: hyp ? HSTATUS_BASIC & ~HSTATUS_GVA : HSTATUS_BASIC | (6n << 20n), fixed: 2n << 32n,
      rmwKeep: VSXL_FIELD, only: H,
    },
    { name: 'hedeleg', num: CSRS.hedeleg, mask: hyp ? HEDELEG_HYP : 0xb1ffn, only: H },
    { name: 'hideleg', num: CSRS.hideleg, mask: hyp ? 0x4n : 0x444n, only: H },
    { name: 'hie', num: CSRS.hie, mask: 0x444n, only: H },
    { name: 'hip', num: CSRS.hip, mask: 0x4n, only: H },
    // only VSSIP: QEMU 7.2 keeps hvip.VSTIP/VSEIP in mip, where an mip write clears them, and
    // vsip does not show them (docs)
    { name: 'hvip', num: CSRS.hvip, mask: 0x4n, only: H },
    { name: 'hcounteren', num: CSRS.hcounteren, mask: 0xffff_ffffn, only: H },
    { name: 'henvcfg', num: CSRS.henvcfg, mask: 1n, only: H },
    { name: 'htval', num: CSRS.htval, mask: M64, only: H },
    // htinst holds only what a trap writes: QEMU 7.2 ignores writes, wasmvisor keeps them (both WARL)
    { name: 'htinst', num: CSRS.htinst, mask: 0n, only: H },
    { name: 'htimedelta', num: CSRS.htimedelta, mask: M64, only: H },
    { name: 'hgatp', num: CSRS.hgatp, mask: 0n, only: H },
    { name: 'mtval2', num: CSRS.mtval2, mask: M64, only: H },
    { name: 'mtinst', num: CSRS.mtinst, mask: M64, only: H },
    { name: 'vsstatus', num: CSRS.vsstatus, mask: 0x8000_0000_000c_6122n, fixed: 0x2_0000_0000n, rmwKeep: XL_FIELDS, legal: fsOffOrDirty, only: H },
    { name: 'vsie', num: CSRS.vsie, mask: 0x222n, only: H, noRmw: true },
    // MODE 0 or 1 (bit 1 never set): QEMU 7.2 stores the reserved modes in vstvec
    { name: 'vstvec', num: CSRS.vstvec, mask: M64 - 2n, restore: HANDLER_VS, only: H },
    { name: 'vsscratch', num: CSRS.vsscratch, mask: M64, only: H },
    { name: 'vsepc', num: CSRS.vsepc, mask: M64 - 1n, only: H },
    { name: 'vscause', num: CSRS.vscause, mask: M64, only: H },
    { name: 'vstval', num: CSRS.vstval, mask: M64, only: H },
    { name: 'vsip', num: CSRS.vsip, mask: hyp ? 0x2n : 0x222n, only: H, noRmw: true },
    { name: 'vsatp', num: CSRS.vsatp, mask: 0n, only: H },
    { name: 'fcsr', num: CSRS.fcsr, mask: 0xffn },
    { name: 'frm', num: CSRS.frm, mask: 7n },
    { name: 'fflags', num: CSRS.fflags, mask: 0x1fn },
  ];
}

/** CSRs printed at the end (read in M-mode). misa/mhartid/mvendorid are compared too. */
export const DUMP_CSRS: [string, number][] = [
  'mstatus', 'misa', 'medeleg', 'mideleg', 'mie', 'mip', 'mtvec', 'mscratch', 'mepc', 'mcause', 'mtval',
  'mcounteren', 'menvcfg', 'mcountinhibit', 'sstatus', 'sie', 'sip', 'stvec', 'sscratch', 'sepc', 'scause',
  'stval', 'satp', 'scounteren', 'senvcfg', 'pmpcfg0', 'pmpcfg2', 'pmpaddr0', 'pmpaddr1', 'pmpaddr2',
  'pmpaddr3', 'mhartid', 'mvendorid', 'mconfigptr',
  // the H extension (both harts have it)
  'mtval2', 'mtinst', 'hstatus', 'hedeleg', 'hideleg', 'hie', 'hip', 'hvip', 'hcounteren', 'henvcfg', 'htval',
  'htinst', 'hgatp', 'htimedelta', 'vsstatus', 'vsie', 'vstvec', 'vsscratch', 'vsepc', 'vscause', 'vstval', 'vsip', 'vsatp',
].map((n) => [n, CSRS[n]] as [string, number]);

/**
 * Bits cleared from a CSR's value wherever a program reads it (the dump and body reads), because
 * QEMU 7.2 shows them against the spec (docs/differential-testing.md): mideleg.SGEIP (bit 12)
 * reads one although GEILEN = 0 (hgeie reads zero); vsstatus (sstatus when V=1) shows an SXL
 * field in bits 35:34, which are WPRI in the sstatus format, and its SD (bit 63) is whatever was
 * written instead of the summary of FS.
 */
export const READ_NORMALISE: Record<string, bigint> = {
  mideleg: 1n << 12n,
  vsstatus: (3n << 34n) | (1n << 63n),
};

/** Clear READ_NORMALISE[csr] in rd (tmp is clobbered). */
function normaliseRead(csrName: string, rd: number, tmp: number): Item[] {
  const m = READ_NORMALISE[csrName];
  if (m === undefined || rd === ZERO) return [];
  if (tmp === rd || tmp === ZERO || tmp === GPR) throw new Error('normaliseRead: bad temporary');
  return [...li(tmp, ~m & M64), ins('and', { rd, rs1: rd, rs2: tmp })];
}

// ---- instruction catalogues
const R_OPS = ['add', 'sub', 'sll', 'slt', 'sltu', 'xor', 'srl', 'sra', 'or', 'and', 'addw', 'subw', 'sllw', 'srlw', 'sraw'];
const M_OPS = ['mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu', 'mulw', 'divw', 'divuw', 'remw', 'remuw'];
const I_OPS = ['addi', 'slti', 'sltiu', 'xori', 'ori', 'andi', 'addiw'];
const LOADS: [string, number][] = [['lb', 1], ['lh', 2], ['lw', 4], ['ld', 8], ['lbu', 1], ['lhu', 2], ['lwu', 4]];
const STORES: [string, number][] = [['sb', 1], ['sh', 2], ['sw', 4], ['sd', 8]];
const AMOS = ['amoswap', 'amoadd', 'amoxor', 'amoand', 'amoor', 'amomin', 'amomax', 'amominu', 'amomaxu'];
const BRANCHES = ['beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu'];
const F_ARITH = ['fadd', 'fsub', 'fmul', 'fdiv'];
const F_FMA = ['fmadd', 'fmsub', 'fnmsub', 'fnmadd'];
const F_SGN = ['fsgnj', 'fsgnjn', 'fsgnjx', 'fmin', 'fmax'];
const F_CMP = ['feq', 'flt', 'fle'];
const INT_NAMES = ['w', 'wu', 'l', 'lu'];

/** Illegal in both (RV64GC + S/U, no H, no B, no V, no Zfh, no Zicbom, no Zabha). */
const ILLEGAL32: number[] = [
  0xffff_ffff, 0x0000_000b, 0x1234_500b, 0x0000_002b, 0x0000_005b, 0x0000_007b, // custom-0..3
  0x0000_0057, 0x0200_0057, // OP-V
  0x0000_0077, // reserved major opcode
  0x0600_0053, 0x0400_0053, // fadd.q, fadd.h
  0x1010_202f, 0x0000_002f, 0x0000_102f, // lr.w with rs2 != 0, amoadd.b, amoadd.h
  0x4000_1013, 0x0800_1013, 0x6000_5013, // OP-IMM shifts with funct6 010000, 000010, 011000 (Zbb rori)
  0x0200_101b, 0x4000_101b, 0x0000_403b, // slliw shamt[5] = 1; slliw funct7 0x20; OP-32 funct3 4
  0x0800_0033, 0x4000_1033, 0x2000_0033, // OP funct7 0x04 / 0x20 (sll) / 0x10
  0x0000_4073, // SYSTEM funct3 4 (hypervisor loads)
  0x3020_0173, // mret with rd != 0
  0x1050_8073, // wfi with rs1 != 0
  0x0000_7007, // LOAD-FP funct3 7 (vector)
  0x0000_700f, 0x0000_200f, // MISC-MEM funct3 7, 2 (Zicbom)
  0x0000_7003, // LOAD funct3 7
  0x0000_4023, // STORE funct3 4
];
/** 16-bit encodings the C chapter reserves, and the defined illegal instruction */
const ILLEGAL16: number[] = [
  0x0000, // the defined illegal instruction
  0x0004, 0x001c, // c.addi4spn with nzuimm 0
  0x4002, // c.lwsp rd=0
  0x6002, // c.ldsp rd=0
  0x8002, // c.jr rs1=0
  0x6101, // c.addi16sp imm=0
  0x6081, // c.lui x1, 0
  0x2001, // c.addiw rd=0
  0x9c41, 0x9c61, // funct2 10/11 after c.subw/c.addw
];

// ---- the program object

export interface GenOptions {
  /** number of body steps */
  steps?: number;
}

export interface Program {
  seed: number;
  flavour: Flavour;
  body: Step[];
  /** names of the lines the epilogue prints, in order (before the trap log) */
  names: string[];
  /** lay out the program with the first n body steps (default all) */
  build(n?: number): Layout & { bodyStart: number };
}

interface TwoStage {
  ptes: [bigint, bigint][];
  dump: [string, bigint][];
  gRoot: bigint;
  /** VS-stage roots: VS blocks, VU blocks */
  roots: bigint[];
  vsPerms: bigint[];
  gPerms: bigint[];
}

interface PageTables {
  mode: bigint;
  /** root page of the S-mode and the U-mode tables */
  roots: bigint[];
  /** [address, value] of every PTE the prologue writes */
  ptes: [bigint, bigint][];
  /** PTEs printed at the end: [name, address] */
  dump: [string, bigint][];
  /** permissions of the two scratch pages and of the alias gigapage */
  scratchPerms: bigint[];
  aliasPerms: bigint;
  aliasOk: boolean;
}

class Gen {
  readonly r: Rng;
  readonly csrs: CsrSpec[];
  traps = 0;

  constructor(readonly seed: number, readonly flavour: Flavour) {
    this.r = new Rng(seed);
    // paging: no delegation (the S handler's page is not executable under the U-mode root),
    // no interrupts, satp only from the block entries
    const pagingDrop = ['medeleg', 'mideleg', 'mie', 'mip', 'sie', 'sip', 'satp'];
    this.csrs = csrSpecs(flavour).filter((c) => (!c.only || c.only.includes(flavour) || (flavour === 'paging' && c.only.includes('privilege'))) &&
      !(flavour === 'paging' && pagingDrop.includes(c.name)));
    if (flavour === 'paging') this.paging = this.pageTables();
    if (flavour === 'hypervisor' && this.r.chance(0.4)) this.two = this.twoStage();
  }

  // ---- paging: Sv39 or Sv48 page tables, one root for S-mode blocks and one for U-mode blocks
  paging?: PageTables;

  // ---- hypervisor flavour, two-stage variant: VS-stage Sv39 (vsatp; a root for VS blocks and
  // one for VU blocks) over G-stage Sv39x4 (hgatp), both built by the prologue
  two?: TwoStage;

  twoStage(): TwoStage {
    const r = this.r;
    const V = 1n, R = 2n, W = 4n, X = 8n, U = 16n, A = 64n, D = 128n;
    const ptr = (pa: bigint) => ((pa >> 12n) << 10n) | V;
    const leaf = (pa: bigint, perms: bigint) => ((pa >> 12n) << 10n) | perms;
    const ptes: [bigint, bigint][] = [];
    const dump: [string, bigint][] = [];
    // G-stage: a 16 KiB root, one L1, one L0 over 0x8000_0000-0x801f_ffff; the page tables'
    // 2 MiB (0x8020_0000) a megapage; everything identity, U set (G-stage leaves are U)
    const gRoot = PT_BASE, gL1 = PT_BASE + 0x4000n, gL0 = PT_BASE + 0x5000n, gL0pt = PT_BASE + 0x6000n;
    ptes.push([gRoot + 2n * 8n, ptr(gL1)], [gL1, ptr(gL0)], [gL1 + 8n, ptr(gL0pt)]);
    // the VS-stage tables' pages: identity, except the alias's L0 table page (see below), whose
    // G-stage permissions are random: its implicit reads (and A/D writes) of the VS-stage walk
    // then fault with a pseudoinstruction in htinst/mtinst
    const aliasL0 = PT_BASE + 0xc000n;
    const ptPerms = r.chance(0.3) ? V | R | W | X | U | A | D : this.randomPerms() | (r.chance(0.8) ? U : 0n);
    for (let i = 0n; i < 16n; i++) {
      const pa = PT_BASE + (i << 12n);
      ptes.push([gL0pt + i * 8n, leaf(pa, pa === aliasL0 ? ptPerms : V | R | W | X | U | A | D)]);
    }
    dump.push([`gpte[gpa 0x${aliasL0.toString(16)}]`, gL0pt + 0xcn * 8n]);
    const gPerms = [this.randomPerms() | U, this.randomPerms() | U];
    if (r.chance(0.3)) gPerms[r.int(2)] &= ~U; // a G-stage leaf without U: a guest-page fault always
    for (let i = 0n; i < 0x200n; i++) {
      if (i === 0x103n || i === 0x104n) continue;
      if (i >= 0x10n && i < 0x100n) continue; // code: 64 KiB; then the harness's data
      if (i > 0x104n) break;
      ptes.push([gL0 + i * 8n, leaf(CODE + (i << 12n), V | R | W | X | U | A | D)]);
    }
    for (const [k, i] of [[0, 0x103n], [1, 0x104n]] as const) {
      ptes.push([gL0 + i * 8n, leaf(CODE + (i << 12n), gPerms[k])]);
      dump.push([`gpte[gpa 0x${(CODE + (i << 12n)).toString(16)}]`, gL0 + i * 8n]);
    }
    // VS-stage: the same shape as the paging flavour's tables (no alias)
    const vsPerms = [this.randomPerms(), this.randomPerms()];
    const roots: bigint[] = [];
    let page = PT_BASE + 0x8000n;
    for (const [name, u] of [['VS', 0n], ['VU', U]] as const) {
      const root = page, l1 = page + 0x1000n, l0 = page + 0x2000n;
      page += 0x3000n;
      roots.push(root);
      ptes.push([root + 2n * 8n, ptr(l1)], [l1, ptr(l0)]);
      if (!u) {
        // VS only: the scratch pages again at ALIAS (VA 0xc000_0000 + offset), through an L1 and
        // an L0 of their own (the L0 at aliasL0, 0x8020_c000)
        const al1 = page, al0 = page + 0x1000n;
        page += 0x2000n;
        if (al0 !== aliasL0) throw new Error('two-stage layout');
        ptes.push([root + 3n * 8n, ptr(al1)], [al1, ptr(al0)]);
        // A and D set: QEMU 7.2 does the A/D update of a VS-stage PTE without the G stage's write
        // permission (no guest-page fault, 0x3020) and without setting the G-stage D bit
        for (const [k, i] of [[0, 0x103n], [1, 0x104n]] as const) {
          ptes.push([al0 + i * 8n, leaf(CODE + (i << 12n), vsPerms[k] | A | D)]);
          dump.push([`pte.VS[va 0x${(ALIAS + (i << 12n)).toString(16)}]`, al0 + i * 8n]);
        }
      }
      for (let i = 0n; i < 16n; i++) ptes.push([l0 + i * 8n, leaf(CODE + (i << 12n), V | R | X | A | D | u)]);
      for (let i = 0x100n; i < 0x103n; i++) ptes.push([l0 + i * 8n, leaf(CODE + (i << 12n), V | R | W | A | D | u)]);
      for (const [k, i] of [[0, 0x103n], [1, 0x104n]] as const) {
        ptes.push([l0 + i * 8n, leaf(CODE + (i << 12n), vsPerms[k])]);
        dump.push([`pte.${name}[va 0x${(CODE + (i << 12n)).toString(16)}]`, l0 + i * 8n]);
      }
    }
    return { ptes, dump, gRoot, roots, vsPerms, gPerms };
  }

  /**
   * Two-stage variant, V=1: can an access of `size` bytes at scratch `pa` not fault in either
   * stage (whatever SUM and MXR)? AMOs, LR/SC and misaligned accesses only go where it cannot:
   * QEMU 7.2 reports AMO page faults as loads and misaligned ones with the aligned-down address.
   */
  twoOk(pa: bigint, size: number, write: boolean, mode = this.mode, exec = false): boolean {
    const t = this.two!;
    const read = exec ? 8n : 2n; // HLVX: execute permission instead of read
    for (const a of [pa, pa + BigInt(size - 1)]) {
      const k = a >= SCRATCH - (SCRATCH & 0xfffn) + 0x1000n ? 1 : 0;
      const [p, g] = [t.vsPerms[k], t.gPerms[k]];
      if (!(p & 1n) || !(p & read) || (write && !(p & 4n)) || (p & 6n) === 4n) return false;
      if ((mode === 0) !== ((p & 16n) !== 0n)) return false;
      if (!(g & 1n) || !(g & read) || (write && !(g & 4n)) || (g & 6n) === 4n || !(g & 16n)) return false;
    }
    return true;
  }

  /** in a V=1 block of the two-stage variant */
  guest(): boolean {
    return this.two !== undefined && this.virt;
  }

  /** a leaf PTE's permission bits: random, including reserved R=0 W=1 and invalid */
  randomPerms(): bigint {
    const r = this.r;
    // V R W X U A D
    let p = 1n | BigInt(r.pick([0b001, 0b011, 0b101, 0b111, 0b100, 0b001, 0b011, 0b010])) << 1n;
    if (r.chance(0.5)) p |= 1n << 4n; // U
    if (r.chance(0.6)) p |= 1n << 6n; // A
    if (r.chance(0.5)) p |= 1n << 7n; // D
    if (r.chance(0.05)) p &= ~1n; // not valid
    return p;
  }

  pageTables(): PageTables {
    const r = this.r;
    const sv48 = r.chance(0.4);
    const mode = sv48 ? 9n : 8n;
    const V = 1n, R = 2n, W = 4n, X = 8n, U = 16n, A = 64n, D = 128n;
    const ptr = (pa: bigint) => ((pa >> 12n) << 10n) | V;
    const leaf = (pa: bigint, perms: bigint) => ((pa >> 12n) << 10n) | perms;
    const RX = V | R | X | A | D, RW = V | R | W | A | D;
    const ptes: [bigint, bigint][] = [];
    const dump: [string, bigint][] = [];
    const roots: bigint[] = [];
    let page = PT_BASE;
    const scratchPerms = [this.randomPerms(), this.randomPerms()];
    const aliasPerms = this.randomPerms();
    // a misaligned gigapage now and then (a page fault)
    const aliasPa = r.chance(0.1) ? 0x8020_0000n : 0x8000_0000n;
    for (const [name, u] of [['S', 0n], ['U', U]] as const) {
      const top = page;
      page += 0x1000n;
      roots.push(top);
      let l2 = top;
      if (sv48) {
        l2 = page;
        page += 0x1000n;
        ptes.push([top + 0n * 8n, ptr(l2)]);
      }
      const l1 = page;
      page += 0x1000n;
      const l0 = page;
      page += 0x1000n;
      ptes.push([l2 + 2n * 8n, ptr(l1)]);
      // the alias gigapage (VA 0xc000_0000): random permissions, U as random
      ptes.push([l2 + 3n * 8n, leaf(aliasPa, aliasPerms)]);
      dump.push([`pte.${name}[va 0x${ALIAS.toString(16)}]`, l2 + 3n * 8n]);
      ptes.push([l1 + 0n * 8n, ptr(l0)]);
      // code: 64 KiB read/execute; gp area: read/write; U set in the U-mode tables
      for (let i = 0n; i < 16n; i++) ptes.push([l0 + i * 8n, leaf(CODE + (i << 12n), RX | u)]);
      for (let i = 0x100n; i < 0x103n; i++) ptes.push([l0 + i * 8n, leaf(CODE + (i << 12n), RW | u)]);
      // the two scratch pages: random permissions (the same in both tables, A/D per table)
      for (const [k, i] of [[0, 0x103n], [1, 0x104n]] as const) {
        ptes.push([l0 + i * 8n, leaf(CODE + (i << 12n), scratchPerms[k])]);
        dump.push([`pte.${name}[va 0x${(CODE + (i << 12n)).toString(16)}]`, l0 + i * 8n]);
      }
    }
    return { mode, roots, ptes, dump, scratchPerms, aliasPerms, aliasOk: aliasPa === 0x8000_0000n };
  }

  /** privilege of the block being generated (paging and privilege flavours) */
  mode = 3;

  /**
   * An address for an access to scratch byte address `pa`: itself, or through the alias.
   * In M-mode the alias is an unmapped physical address: fine for loads and stores, not for
   * AMOs (QEMU 7.2 reports their access faults as load faults), hence `amo`.
   */
  va(pa: bigint, amo = false): bigint {
    if (amo && this.mode === 3) return pa;
    return this.paging && this.r.chance(0.35) ? pa - CODE + ALIAS : pa;
  }

  /**
   * In an S/U block, is an access of `size` bytes at scratch address `pa` through identity
   * (`alias` false) or the alias certain not to fault, whatever SUM and MXR are? QEMU 7.2
   * reports the page faults of AMOs as loads and gives a misaligned access's page fault the
   * aligned-down address; those cases are only generated where no fault can happen.
   */
  pageOk(pa: bigint, size: number, write: boolean, alias: boolean): boolean {
    const pg = this.paging;
    if (!pg || this.mode === 3) return !alias;
    for (const a of [pa, pa + BigInt(size - 1)]) {
      const p = alias ? pg.aliasPerms : pg.scratchPerms[a >= SCRATCH - (SCRATCH & 0xfffn) + 0x1000n ? 1 : 0];
      if (alias && !pg.aliasOk) return false;
      const [v, r, w, u] = [p & 1n, p & 2n, p & 4n, p & 16n];
      if (!v || !r || (write && !w)) return false;
      if ((this.mode === 0) !== (u !== 0n)) return false;
    }
    return true;
  }

  /** a virtual address for `pa` that cannot fault (identity or alias), or undefined */
  safeVa(pa: bigint, size: number, write: boolean): bigint | undefined {
    const order = this.r.chance(0.5) ? [true, false] : [false, true];
    for (const alias of order) if (this.pageOk(pa, size, write, alias)) return alias ? pa - CODE + ALIAS : pa;
    return undefined;
  }

  // registers
  /** a destination: never gp (the handlers' base) */
  xd(allowZero = true): number {
    for (;;) {
      const v = this.r.int(32);
      if (v === GPR) continue;
      if (v === ZERO && (!allowZero || !this.r.chance(0.2))) continue;
      return v;
    }
  }
  xs(): number {
    return this.r.int(32);
  }
  /** a temporary for addresses: not x0, gp */
  xt(): number {
    for (;;) {
      const v = this.r.int(32);
      if (v !== ZERO && v !== GPR) return v;
    }
  }
  /** x8..x15 (compressed) */
  xc(): number {
    return 8 + this.r.int(8);
  }
  fr(): number {
    return this.r.int(32);
  }
  rm(): number {
    const k = this.r.int(100);
    if (k < 2) return this.r.pick([5, 6]); // reserved: illegal instruction
    if (k < 45) return 7; // dynamic: frm
    return this.r.int(5);
  }

  step(kind: string, items: Item[]): Step {
    return { kind, items };
  }

  // ---- integer
  alu(): Step {
    const r = this.r;
    const items: Item[] = [];
    const k = r.int(10);
    if (k < 4) {
      const name = r.pick(k < 2 ? R_OPS : M_OPS);
      const rs1 = this.xs(), rs2 = this.xs();
      if (r.chance(0.4) && rs2 !== ZERO && rs2 !== GPR) items.push(...li(rs2, int64(r)));
      if (r.chance(0.3) && rs1 !== ZERO && rs1 !== GPR && rs1 !== rs2) items.push(...li(rs1, int64(r)));
      items.push(ins(name, { rd: this.xd(), rs1, rs2 }));
    } else if (k < 7) {
      const name = r.pick(I_OPS);
      items.push(ins(name, { rd: this.xd(), rs1: this.xs(), imm: r.chance(0.3) ? r.pick([-2048, -1, 0, 1, 2047]) : r.range(-2048, 2047) }));
    } else if (k < 9) {
      const w = r.chance(0.4);
      const name = r.pick(w ? ['slliw', 'srliw', 'sraiw'] : ['slli', 'srli', 'srai']);
      items.push(ins(name, { rd: this.xd(), rs1: this.xs(), imm: r.int(w ? 32 : 64) }));
    } else {
      items.push(ins(r.pick(['lui', 'auipc']), { rd: this.xd(), imm: (r.u32() & 0xfffff000) | 0 }));
    }
    return this.step('alu', items);
  }

  liStep(): Step {
    return this.step('li', li(this.xd(false), int64(this.r)));
  }

  control(): Step {
    const r = this.r;
    const fill = (n: number) => Array.from({ length: n }, () => ins(r.pick(['addi', 'xori']), { rd: this.xd(false), rs1: this.xs(), imm: r.range(-2048, 2047) }));
    const k = r.int(4);
    if (k < 2) {
      const items: Item[] = [ins(r.pick(BRANCHES), { rs1: this.xs(), rs2: this.xs() }, { end: true }), ...fill(r.range(1, 3))];
      return this.step('branch', items);
    }
    if (k === 2) return this.step('jal', [ins('jal', { rd: this.xd() }, { end: true }), ...fill(r.range(1, 2))]);
    // jalr: t = address of the step's end, minus an offset the jalr adds back
    const t = this.xt();
    const imm = r.range(-64, 64) & ~1;
    const items: Item[] = [...la(t, { end: true }, 0)];
    items.push(ins('addi', { rd: t, rs1: t, imm: -imm }));
    items.push(ins('jalr', { rd: this.xd(), rs1: t, imm: imm + (r.chance(0.3) ? 1 : 0) })); // bit 0 is ignored
    items.push(...fill(r.range(0, 2)));
    return this.step('jalr', items);
  }

  /** a destination other than x0, gp and the registers in `not` */
  xdNot(not: number[]): number {
    for (;;) {
      const v = this.xd(false);
      if (!not.includes(v)) return v;
    }
  }

  /** one ALU instruction (32- or 16-bit) writing a register outside `not` */
  aluInsn(not: number[], compressed = false): Item {
    const r = this.r;
    if (compressed) {
      const rd = this.xdNot([...not, SP]);
      const k = r.int(4);
      if (k === 0) return ins('c.li', { rd, imm: r.range(-32, 31) });
      if (k === 1) return ins('c.slli', { rd, imm: r.range(1, 63) });
      if (k === 2) { let rs2 = this.xs(); if (!rs2) rs2 = A0; return ins('c.add', { rd, rs2 }); }
      return ins('c.addiw', { rd, imm: r.range(-32, 31) });
    }
    const rd = this.xdNot(not);
    if (r.chance(0.5)) return ins(r.pick([...R_OPS, ...M_OPS]), { rd, rs1: this.xs(), rs2: this.xs() });
    return ins(r.pick(I_OPS), { rd, rs1: this.xs(), imm: r.range(-2048, 2047) });
  }

  /** a small counted loop: the decoded-instruction cache sees the same code again */
  loop(): Step {
    const r = this.r;
    const cnt = this.xt();
    const items: Item[] = li(cnt, BigInt(r.range(1, 6)));
    const top = items.length;
    const n = r.range(1, 3);
    for (let k = 0; k < n; k++) items.push(this.aluInsn([cnt], r.chance(0.3)));
    items.push(ins('addi', { rd: cnt, rs1: cnt, imm: -1 }), ins('bne', { rs1: cnt, rs2: ZERO }, { local: top }));
    return this.step('loop', items);
  }

  /**
   * Self-modifying code: a two-pass loop whose first instruction is overwritten (then FENCE.I)
   * after the first pass, so the second pass must execute the new instruction.
   */
  smc(): Step {
    const r = this.r;
    const cnt = this.xt();
    let t = this.xt();
    while (t === cnt) t = this.xt();
    let a = this.xt();
    while (a === cnt || a === t) a = this.xt();
    const c = r.chance(0.3);
    const items: Item[] = li(cnt, 2n);
    const top = items.length;
    items.push(this.aluInsn([cnt, t, a], c));
    // the new instruction, as raw bits
    const next = this.aluInsn([cnt, t, a], c) as { name: string; ops: Record<string, number> };
    const word = encode(next.name, next.ops);
    items.push(...li(t, BigInt(word)));
    items.push(...la(a, { local: top }, items.length));
    items.push(ins(c ? 'sh' : 'sw', { rs1: a, rs2: t, imm: 0 }), ins('fence.i'));
    items.push(ins('addi', { rd: cnt, rs1: cnt, imm: -1 }), ins('bne', { rs1: cnt, rs2: ZERO }, { local: top }));
    return this.step('smc', items);
  }

  /** SUM and MXR (paging): set or clear through sstatus, or mstatus in M-mode */
  sumMxr(): Step {
    const r = this.r;
    const t = this.xt();
    const bit = r.pick([1n << 18n, 1n << 19n, 3n << 18n]);
    return this.step('sum-mxr', [...li(t, bit), ins(r.pick(['csrrs', 'csrrc']), { rd: this.xd(), rs1: t, csr: r.pick([CSRS.sstatus, CSRS.mstatus]) })]);
  }

  /** software interrupts (privilege flavour): SSIP pending, enables, delegation */
  irq(): Step {
    const r = this.r;
    const [name, csr] = r.pick([
      ['csrrsi', CSRS.mip], ['csrrsi', CSRS.sip], ['csrrsi', CSRS.mie], ['csrrci', CSRS.mie], ['csrrsi', CSRS.sie],
      ['csrrsi', CSRS.mideleg], ['csrrci', CSRS.mideleg], ['csrrsi', CSRS.sstatus], ['csrrci', CSRS.sstatus],
    ] as [string, number][]);
    const rd = this.xd();
    return this.step('irq', [ins(name, { rd, zimm: 2, csr }), ...this.normalise(csr === CSRS.mideleg ? 'mideleg' : '', rd)]);
  }

  // ---- memory
  /** an address in the scratch region for an access of `size` bytes */
  scratchAddr(size: number, aligned: boolean): bigint {
    const off = aligned ? this.r.int(SCRATCH_SIZE / size) * size : this.r.int(SCRATCH_SIZE - size + 1);
    return SCRATCH + BigInt(off);
  }

  mem(): Step {
    const r = this.r;
    const fp = this.flavour === 'fp' || r.chance(0.15);
    const store = r.chance(0.45);
    let name: string, size: number;
    if (fp && r.chance(0.5)) {
      [name, size] = store ? r.pick([['fsw', 4], ['fsd', 8]] as [string, number][]) : r.pick([['flw', 4], ['fld', 8]] as [string, number][]);
    } else [name, size] = r.pick(store ? STORES : LOADS);
    const pa = this.scratchAddr(size, r.chance(0.6));
    let addr: bigint | undefined = this.va(pa);
    if (this.paging && pa % BigInt(size) !== 0n) addr = this.safeVa(pa, size, store); // misaligned: never a page fault
    if (this.guest() && pa % BigInt(size) !== 0n && !this.twoOk(pa, size, store)) addr = undefined;
    // two-stage, VS: aligned loads through the alias, whose walk may fault in the G stage (a load
    // guest-page fault with htval = the PTE's GPA >> 2 and the pseudoinstruction 0x3000). Not
    // stores: QEMU 7.2 reports such a fault as a load guest-page fault (21) whatever the access
    if (this.guest() && this.mode === 1 && !store && pa % BigInt(size) === 0n && r.chance(0.5)) addr = pa - CODE + ALIAS;
    if (addr === undefined) return this.alu();
    const imm = r.chance(0.5) ? 0 : r.range(-2048, 2047);
    const base = this.xt();
    const items = li(base, addr - BigInt(imm));
    const ops: Record<string, number> = { rs1: base, imm };
    if (name.startsWith('fs')) ops.frs2 = this.fr();
    else if (name.startsWith('fl')) ops.frd = this.fr();
    else if (store) ops.rs2 = this.xs();
    else ops.rd = this.xd();
    items.push(ins(name, ops));
    return this.step(store ? 'store' : 'load', items);
  }

  // ---- A
  amo(): Step {
    const r = this.r;
    const d = r.chance(0.5);
    const size = d ? 8 : 4;
    const base = this.xt();
    let va = this.paging ? this.safeVa(this.scratchAddr(size, true), size, true) : this.scratchAddr(size, true);
    if (va !== undefined && this.guest() && !this.twoOk(va, size, true)) va = undefined;
    if (va === undefined) return this.alu();
    const items = li(base, va);
    let rs2 = this.xs();
    if (rs2 === base) rs2 = ZERO;
    items.push(ins(`${r.pick(AMOS)}.${d ? 'd' : 'w'}`, { rd: this.xd(), rs1: base, rs2, aq: r.int(2), rl: r.int(2) }));
    return this.step('amo', items);
  }

  /** LR and its SC in one step, nothing in between that could trap (xRET may drop a reservation). */
  lrsc(): Step {
    const r = this.r;
    const d = r.chance(0.5);
    const size = d ? 8 : 4;
    const base = this.xt();
    const k = r.int(5);
    let addr = this.paging ? this.safeVa(this.scratchAddr(size, true), size, true) : this.scratchAddr(size, true);
    if (addr !== undefined && this.guest() && !this.twoOk(addr, size, true)) addr = undefined;
    if (addr === undefined) return this.alu();
    const items = li(base, addr);
    const rd = this.xd();
    items.push(ins(d ? 'lr.d' : 'lr.w', { rd, rs1: base, aq: r.int(2), rl: r.int(2) }));
    if (rd === base) return this.step('lr', items); // base lost: a lone LR (the next SC fails in both)
    let scBase = base;
    if (k === 1) {
      // a store in between: the same value (SC still succeeds), or another
      const t = this.xt();
      if (t !== base) {
        if (r.chance(0.5)) items.push(ins(d ? 'ld' : 'lw', { rd: t, rs1: base, imm: 0 }));
        else items.push(...li(t, int64(r)));
        items.push(ins(d ? 'sd' : 'sw', { rs1: base, rs2: t, imm: 0 }));
      }
    } else if (k === 2) {
      // SC to another address: fails
      const t = this.xt();
      if (t !== base) {
        let other = this.paging ? this.safeVa(this.scratchAddr(size, true), size, true) : this.scratchAddr(size, true);
        if (other !== undefined && this.guest() && !this.twoOk(other, size, true)) other = undefined;
        items.push(...li(t, other ?? addr));
        scBase = t;
      }
    } else if (k === 3) {
      let t = this.xd();
      if (t === base) t = ZERO;
      items.push(ins(r.pick(R_OPS), { rd: t, rs1: this.xs(), rs2: this.xs() }));
    }
    // (no SC of the other width: QEMU 7.2 then stores but reports failure; the spec leaves
    // such pairs to the implementation)
    items.push(ins(d ? 'sc.d' : 'sc.w', { rd: this.xd(), rs1: scBase, rs2: this.xs(), aq: r.int(2), rl: r.int(2) }));
    return this.step('lrsc', items);
  }

  // ---- F and D
  fpInject(): Step {
    const r = this.r;
    const t = this.xt();
    const fd = this.fr();
    if (r.chance(0.5)) return this.step('fpval', [...li(t, fReg(r)), ins('fmv.d.x', { frd: fd, rs1: t })]);
    return this.step('fpval', [...li(t, BigInt(f32(r))), ins('fmv.w.x', { frd: fd, rs1: t })]);
  }

  fp(): Step {
    const r = this.r;
    const items: Item[] = [];
    const s = r.chance(0.5) ? 's' : 'd';
    const k = r.int(16);
    // sometimes a fresh special value right before
    if (r.chance(0.25)) items.push(...this.fpInject().items);
    if (k < 4) items.push(ins(`${r.pick(F_ARITH)}.${s}`, { frd: this.fr(), frs1: this.fr(), frs2: this.fr(), rm: this.rm() }));
    else if (k < 6) items.push(ins(`${r.pick(F_FMA)}.${s}`, { frd: this.fr(), frs1: this.fr(), frs2: this.fr(), frs3: this.fr(), rm: this.rm() }));
    else if (k < 7) items.push(ins(`fsqrt.${s}`, { frd: this.fr(), frs1: this.fr(), rm: this.rm() }));
    else if (k < 8) items.push(ins(`${r.pick(F_SGN)}.${s}`, { frd: this.fr(), frs1: this.fr(), frs2: this.fr() }));
    else if (k < 9) items.push(ins(`${r.pick(F_CMP)}.${s}`, { rd: this.xd(), frs1: this.fr(), frs2: this.fr() }));
    else if (k < 11) {
      // float -> integer, often right after an injected boundary value
      const f = this.fr();
      const t = this.xt();
      if (r.chance(0.6)) items.push(...li(t, s === 'd' ? f64(r) : 0xffff_ffff_0000_0000n | BigInt(f32(r))), ins('fmv.d.x', { frd: f, rs1: t }));
      items.push(ins(`fcvt.${r.pick(INT_NAMES)}.${s}`, { rd: this.xd(), frs1: f, rm: this.rm() }));
    } else if (k < 12) {
      const x = this.xs();
      if (x !== ZERO && x !== GPR && r.chance(0.5)) items.push(...li(x, int64(r)));
      items.push(ins(`fcvt.${s}.${r.pick(INT_NAMES)}`, { frd: this.fr(), rs1: x, rm: this.rm() }));
    } else if (k < 13) items.push(ins(s === 's' ? 'fcvt.s.d' : 'fcvt.d.s', { frd: this.fr(), frs1: this.fr(), rm: this.rm() }));
    else if (k < 14) items.push(ins(`fclass.${s}`, { rd: this.xd(), frs1: this.fr() }));
    else if (k < 15) {
      items.push(r.chance(0.5) ? ins(s === 's' ? 'fmv.x.w' : 'fmv.x.d', { rd: this.xd(), frs1: this.fr() })
        : ins(s === 's' ? 'fmv.w.x' : 'fmv.d.x', { frd: this.fr(), rs1: this.xs() }));
    } else return this.fpCsr();
    return this.step('fp', items);
  }

  /** frm / fflags / fcsr: set a rounding mode (sometimes an invalid one), read and clear flags */
  fpCsr(): Step {
    const r = this.r;
    const k = r.int(5);
    if (k === 0) return this.step('fcsr', [ins('csrrwi', { rd: this.xd(), zimm: r.chance(0.85) ? r.int(5) : r.range(5, 7), csr: CSRS.frm })]);
    if (k === 1) return this.step('fcsr', [ins('csrrw', { rd: this.xd(), rs1: ZERO, csr: CSRS.fflags })]);
    if (k === 2) return this.step('fcsr', [ins('csrrs', { rd: this.xd(), rs1: ZERO, csr: r.pick([CSRS.fflags, CSRS.fcsr, CSRS.frm]) })]);
    if (k === 3) return this.step('fcsr', [ins('csrrwi', { rd: this.xd(), zimm: r.int(32), csr: CSRS.fflags })]);
    const t = this.xt();
    return this.step('fcsr', [...li(t, BigInt(r.int(256))), ins('csrrw', { rd: this.xd(), rs1: t, csr: CSRS.fcsr })]);
  }

  // ---- C
  compressed(): Step {
    const r = this.r;
    const items: Item[] = [];
    const nz6 = () => { let v = 0; while (v === 0) v = r.range(-32, 31); return v; };
    const rdNz = () => this.xd(false);
    const kind = r.pick([
      'c.addi4spn', 'c.fld', 'c.lw', 'c.ld', 'c.fsd', 'c.sw', 'c.sd', 'c.addi', 'c.addiw', 'c.li', 'c.addi16sp', 'c.lui',
      'c.srli', 'c.srai', 'c.andi', 'c.sub', 'c.xor', 'c.or', 'c.and', 'c.subw', 'c.addw', 'c.j', 'c.beqz', 'c.bnez',
      'c.slli', 'c.fldsp', 'c.lwsp', 'c.ldsp', 'c.fsdsp', 'c.swsp', 'c.sdsp', 'c.jr', 'c.mv', 'c.jalr', 'c.add',
    ]);
    const mem = (size: number, maxImm: number, base: number) => {
      const imm = r.int(maxImm / size + 1) * size;
      const addr = this.scratchAddr(size, r.chance(0.7));
      // keep the access inside the scratch region: base = addr - imm must not go below it... any base is fine
      items.push(...li(base, addr - BigInt(imm)));
      return imm;
    };
    switch (kind) {
      case 'c.addi4spn': items.push(ins(kind, { rd: this.xc(), imm: r.range(1, 255) * 4 })); break;
      case 'c.fld': case 'c.lw': case 'c.ld': case 'c.fsd': case 'c.sw': case 'c.sd': {
        const size = kind === 'c.lw' || kind === 'c.sw' ? 4 : 8;
        const base = this.xc();
        const imm = mem(size, size === 4 ? 124 : 248, base);
        const reg = kind === 'c.fld' || kind === 'c.fsd' ? 8 + r.int(8) : this.xc();
        if (kind.startsWith('c.s') || kind === 'c.fsd') items.push(ins(kind, { rs1: base, rs2: reg, imm }));
        else items.push(ins(kind, { rd: reg, rs1: base, imm }));
        break;
      }
      case 'c.addi': items.push(ins(kind, { rd: rdNz(), imm: nz6() })); break;
      case 'c.addiw': items.push(ins(kind, { rd: rdNz(), imm: r.range(-32, 31) })); break;
      case 'c.li': items.push(ins(kind, { rd: rdNz(), imm: r.range(-32, 31) })); break;
      case 'c.addi16sp': items.push(ins(kind, { rd: SP, imm: nz6() * 16 })); break;
      case 'c.lui': {
        let rd = rdNz();
        if (rd === SP) rd = T0;
        items.push(ins(kind, { rd, imm: nz6() * 4096 }));
        break;
      }
      case 'c.srli': case 'c.srai': items.push(ins(kind, { rd: this.xc(), imm: r.range(1, 63) })); break;
      case 'c.andi': items.push(ins(kind, { rd: this.xc(), imm: r.range(-32, 31) })); break;
      case 'c.sub': case 'c.xor': case 'c.or': case 'c.and': case 'c.subw': case 'c.addw':
        items.push(ins(kind, { rd: this.xc(), rs2: this.xc() }));
        break;
      case 'c.j': items.push(ins(kind, {}, { end: true }), ins('c.addi', { rd: rdNz(), imm: nz6() })); break;
      case 'c.beqz': case 'c.bnez': items.push(ins(kind, { rs1: this.xc() }, { end: true }), ins('c.li', { rd: rdNz(), imm: r.range(-32, 31) })); break;
      case 'c.slli': items.push(ins(kind, { rd: rdNz(), imm: r.range(1, 63) })); break;
      case 'c.fldsp': case 'c.ldsp': case 'c.fsdsp': case 'c.sdsp': case 'c.lwsp': case 'c.swsp': {
        const size = kind.includes('w') ? 4 : 8;
        const imm = mem(size, size === 4 ? 252 : 504, SP);
        if (kind === 'c.fldsp') items.push(ins(kind, { rd: this.fr(), imm }));
        else if (kind === 'c.fsdsp') items.push(ins(kind, { rs2: this.fr(), imm }));
        else if (kind === 'c.ldsp' || kind === 'c.lwsp') items.push(ins(kind, { rd: rdNz(), imm }));
        else items.push(ins(kind, { rs2: this.xs(), imm }));
        break;
      }
      case 'c.jr': case 'c.jalr': {
        const t = this.xt();
        items.push(...la(t, { end: true }, 0), ins(kind, { rs1: t }));
        if (r.chance(0.5)) items.push(ins('c.addi', { rd: rdNz(), imm: nz6() }));
        break;
      }
      case 'c.mv': case 'c.add': {
        let rs2 = this.xs();
        if (rs2 === ZERO) rs2 = A0;
        items.push(ins(kind, { rd: rdNz(), rs2 }));
        break;
      }
    }
    return this.step(kind, items);
  }

  // ---- CSRs
  /** the instructions that clear READ_NORMALISE bits of a read of `csrName` into rd */
  normalise(csrName: string, rd: number): Item[] {
    if (READ_NORMALISE[csrName] === undefined || rd === ZERO) return [];
    let t = this.xt();
    while (t === rd) t = this.xt();
    return normaliseRead(csrName, rd, t);
  }

  csrValue(c: CsrSpec): bigint {
    const v = (this.r.chance(0.15) ? M64 & c.mask : this.r.u64() & c.mask) | (c.fixed ?? 0n);
    return c.legal ? c.legal(v) : v;
  }

  csr(): Step {
    const r = this.r;
    // in VU-mode, no supervisor CSRs: QEMU 7.2 raises illegal instruction, the spec virtual
    // instruction (docs/differential-testing.md)
    const c = r.pick(this.vu() ? this.csrs.filter((x) => ((x.num >> 8) & 3) !== 1) : this.csrs);
    const items: Item[] = [];
    if (c.name === 'satp' || c.name === 'vsatp' || c.name === 'hgatp') return this.satp(c.num);
    const rd = this.xd();
    let op = r.int(7);
    // (sie/sip are vsie/vsip while V=1)
    if (c.noRmw || (this.virt && (c.name === 'sie' || c.name === 'sip'))) op = r.pick([0, 6]);
    if (op <= 2) {
      // csrrw / csrrs / csrrc with a register operand
      const t = this.xt();
      const name = ['csrrw', 'csrrs', 'csrrc'][op];
      let v = this.csrValue(c);
      if (name === 'csrrs') v = r.u64() & c.mask & ~(c.rmwKeep ?? 0n);
      if (name === 'csrrc') v = r.u64() & ~(c.rmwKeep ?? 0n);
      if (name !== 'csrrw' && c.legal === fsOffOrDirty) v = fsOffOrDirty(v);
      if (name !== 'csrrw' && c.name === 'mstatus') v = fsOffOrDirty(v);
      items.push(...li(t, v), ins(name, { rd, rs1: t, csr: c.num }));
    } else if (op <= 5) {
      const name = ['csrrwi', 'csrrsi', 'csrrci'][op - 3];
      if ((name === 'csrrwi' && (c.fixed || c.legal)) || c.rmwKeep === M64) {
        // a 5-bit write would clear UXL/SXL (QEMU and wasmvisor legalise that differently),
        // or set/clear bits into a reserved pattern
        items.push(ins('csrrs', { rd, rs1: ZERO, csr: c.num }), ...this.normalise(c.name === 'sstatus' && this.virt ? 'vsstatus' : c.name, rd));
        return this.step('csr', items);
      }
      let z = r.int(32);
      if (name !== 'csrrci') z &= Number(c.mask & 31n);
      items.push(ins(name, { rd, zimm: z, csr: c.num }));
    } else {
      items.push(ins('csrrs', { rd, rs1: ZERO, csr: c.num })); // a plain read
    }
    // while V=1, sstatus is vsstatus, stvec vstvec
    items.push(...this.normalise(c.name === 'sstatus' && this.virt ? 'vsstatus' : c.name, rd));
    if (c.restore !== undefined) {
      // what the write left (WARL) is read back, then the vector is restored
      const t = this.xt();
      items.push(...li(t, c.name === 'stvec' && this.virt ? HANDLER_VS : c.restore), ins('csrrw', { rd: this.xd(), rs1: t, csr: c.num }));
    }
    return this.step('csr', items);
  }

  /**
   * satp, vsatp or hgatp: Bare (all zero), Sv39/Sv48 (x4), or (satp only) a mode nobody has, whose
   * write is ignored. QEMU 7.2 stores any vsatp and hgatp value (reserved modes, hgatp PPN bits
   * 1:0), so those get legal values only. The hypervisor flavour translates only in its paging
   * blocks: Bare only.
   */
  satp(num = CSRS.satp): Step {
    const r = this.r;
    const t = this.xt();
    const m = this.flavour === 'privilege' || this.flavour === 'hypervisor' ? 0n : r.pick(num === CSRS.satp ? [0n, 0n, 8n, 9n, 1n, 15n] : [0n, 8n, 9n]);
    let v = m === 0n ? 0n : (m << 60n) | (r.u64() & 0x0fff_ffff_ffff_ffffn);
    if (num === CSRS.hgatp && m) v &= ~(3n | (3n << 58n)); // 16 KiB aligned root; VMID is 14 bits (57:44)
    const rd = this.xd();
    return this.step('satp', [...li(t, v), ins('csrrw', { rd, rs1: t, csr: num })]);
  }

  // ---- traps
  trap(): Step {
    const r = this.r;
    this.traps++;
    const k = r.int(12);
    if (k === 0) return this.step('illegal32', [{ k: 'raw', word: r.pick(ILLEGAL32), len: 4 }]);
    if (k === 1) return this.step('illegal16', [{ k: 'raw', word: r.pick(ILLEGAL16), len: 2 }]);
    if (k === 2) return this.step('ecall', [ins('ecall')]);
    if (k === 3) return this.step('ebreak', [ins(r.chance(0.5) ? 'ebreak' : 'c.ebreak')]);
    if (k === 4) {
      // misaligned LR
      const d = r.chance(0.5);
      const size = d ? 8 : 4;
      const base = this.xt();
      let addr = this.scratchAddr(size, false);
      if (addr % BigInt(size) === 0n) addr += 1n;
      const items = li(base, addr);
      // LR only: QEMU 7.2 reports a misaligned AMO or SC as a load (cause 4), the spec says
      // store/AMO (cause 6) as wasmvisor does; and a misaligned SC without a reservation
      // simply fails in QEMU 7.2 (docs/differential-testing.md)
      items.push(ins(d ? 'lr.d' : 'lr.w', { rd: this.xd(), rs1: base }));
      return this.step('misaligned-lr', items);
    }
    if (k <= 7) {
      // an access to an address nothing answers: access fault (load 5, store/AMO 7)
      const base = this.xt();
      let addr = r.pick([0n, 8n, 0x100n - 8n, 0x8800_0000n, 0x8800_0100n, 0x2_0000_0000n, 0xffff_ffff_ffff_f000n]) + BigInt(r.int(8) * 8);
      // (with V=1 never 0: QEMU 7.2 sets GVA only for a nonzero tval; and not at the top of the
      // address space: with hgatp Bare QEMU 7.2 reports a guest-page fault there)
      if (addr === 0n && this.virt) addr = 8n;
      if (addr >= 0xffff_ffff_ffff_f000n && this.virt) addr = 0x2_0000_0000n;
      const items = li(base, addr);
      // (no AMOs: QEMU 7.2 reports an AMO access fault as a load one, cause 5 for 7)
      const a = r.int(5);
      if (a <= 1) items.push(ins(r.pick(LOADS)[0], { rd: this.xd(), rs1: base, imm: 0 }));
      else if (a === 2) items.push(ins(r.pick(STORES)[0], { rs1: base, rs2: this.xs(), imm: 0 }));
      else if (a === 3) items.push(r.chance(0.5) ? ins(r.pick(['flw', 'fld']), { frd: this.fr(), rs1: base, imm: 0 }) : ins(r.pick(['fsw', 'fsd']), { frs2: this.fr(), rs1: base, imm: 0 }));
      else items.push(ins(r.pick(['lr.w', 'lr.d']), { rd: this.xd(), rs1: base }));
      return this.step('access-fault', items);
    }
    if (k === 8 && !this.guest()) {
      // a misaligned access that runs off the end of RAM: the fault is for the part beyond
      const base = this.xt();
      const [name, size] = r.pick([...LOADS, ...STORES].filter(([, s]) => s > 1));
      const addr = 0x8800_0000n - BigInt(r.range(1, size - 1));
      const items = li(base, addr);
      items.push(name.startsWith('s') ? ins(name, { rs1: base, rs2: this.xs(), imm: 0 }) : ins(name, { rd: this.xd(), rs1: base, imm: 0 }));
      return this.step('ram-end', items);
    }
    if (k === 9) {
      // fetch from nowhere: the handler resumes at ra
      return this.step('fetch-fault', [...li(T0, r.pick([this.virt ? 0x100n : 0n, 0x100n, 0x8800_0000n])), ins('jalr', { rd: RA, rs1: T0, imm: 0 })]);
    }
    if (k === 10) {
      // CSR: write a read-only one, access one that does not exist (custom, debug, odd pmpcfg)
      const c = r.pick([CSRS.mhartid, CSRS.mvendorid, CSRS.cycle, 0x7c0, 0x800, 0xbc0, 0x5c0, 0x3a1, 0x3a3, 0x7b0]);
      const readOnly = c === CSRS.mhartid || c === CSRS.mvendorid || c === CSRS.cycle;
      const t = this.xt();
      // a register holding a nonzero value: QEMU 7.2 does not count CSRRS/CSRRC with a zero
      // mask (from a register other than x0) as a write (the spec does: Zicsr chapter)
      if (readOnly) return this.step('csr-ro', [...li(t, BigInt(r.range(1, 2047))), ins(r.pick(['csrrw', 'csrrs', 'csrrc']), { rd: this.xd(), rs1: t, csr: c })]);
      if (r.chance(0.25)) return this.step('csr-none', [ins('csrrsi', { rd: this.xd(), zimm: r.int(32), csr: c })]);
      return this.step('csr-none', [ins(r.pick(['csrrw', 'csrrs', 'csrrc']), { rd: this.xd(), rs1: t, csr: c })]);
    }
    // an F/D instruction with a reserved rounding mode
    return this.step('bad-rm', [ins(`fadd.${r.chance(0.5) ? 's' : 'd'}`, { frd: this.fr(), frs1: this.fr(), frs2: this.fr(), rm: r.pick([5, 6]) })]);
  }

  misc(): Step {
    const r = this.r;
    return this.step('misc', [r.pick([
      ins('fence', { pred: r.int(16), succ: r.int(16) }), ins('fence.i'), ins('sfence.vma', { rs1: this.xs(), rs2: this.xs() }),
    ])]);
  }

  // ---- privilege: run a block of steps in S or U mode, back to M with the magic ECALL
  enter(mode: number): Step {
    const r = this.r;
    const items: Item[] = [...la(T0, { end: true }, 0)];
    if (this.paging) {
      // this block's page tables
      const pg = this.paging;
      items.push(...li(T1, (pg.mode << 60n) | (pg.roots[mode ? 0 : 1] >> 12n)), ins('csrrw', { rd: ZERO, rs1: T1, csr: CSRS.satp }));
      items.push(ins('sfence.vma', { rs1: ZERO, rs2: ZERO }));
    }
    items.push(ins('csrrw', { rd: ZERO, rs1: T0, csr: CSRS.mepc }));
    items.push(...li(T1, 0x1800n), ins('csrrc', { rd: ZERO, rs1: T1, csr: CSRS.mstatus }));
    if (mode) items.push(...li(T1, BigInt(mode) << 11n), ins('csrrs', { rd: ZERO, rs1: T1, csr: CSRS.mstatus }));
    if (r.chance(0.5)) items.push(...li(T1, 1n << 7n), ins(r.pick(['csrrs', 'csrrc']), { rd: ZERO, rs1: T1, csr: CSRS.mstatus })); // MPIE
    items.push(ins('mret'));
    return this.step(mode ? 'enter-S' : 'enter-U', items);
  }
  leave(): Step {
    return this.step('leave', [...li(T6, MAGIC), ins(this.flavour === 'hypervisor' ? 'ebreak' : 'ecall')]);
  }

  // ---- hypervisor: blocks in M, HS, U, VS and VU
  /** V=1 in the block being generated (hypervisor flavour) */
  virt = false;
  /** hstatus.VTW, VTSR and VTVM of the block (set by its entry, never by random writes) */
  vt = 0n;

  /**
   * Enter HS, U, VS or VU: MRET with MPP and MPV, or, for VS/VU, MRET to HS and from there
   * SRET with hstatus.SPV = 1 and sstatus.SPP. Each entry chooses hstatus.VTVM/VTW/VTSR.
   */
  enterH(mode: number, virt: boolean): Step {
    const r = this.r;
    const items: Item[] = [...la(T0, { end: true }, 0)];
    // VTW and VTSR; never VTVM: QEMU 7.2 then lets VS-mode access satp and raises illegal
    // instruction for SFENCE.VMA (the spec: virtual instruction for both)
    this.vt = BigInt(r.pick([0, 2, 4, 6, r.int(8) & 6])) << 20n;
    items.push(...li(T1, HSTATUS_VT), ins('csrrc', { rd: ZERO, rs1: T1, csr: CSRS.hstatus }));
    if (this.vt) items.push(...li(T1, this.vt), ins('csrrs', { rd: ZERO, rs1: T1, csr: CSRS.hstatus }));
    // delegation to VS for the block: none with VTSR (the VS handler's own SRET would trap),
    // else random
    // (and none in VU blocks of the two-stage variant: the VS handler's pages are U there)
    if (this.vt & (4n << 20n) || (this.two && virt && mode === 0)) items.push(ins('csrrw', { rd: ZERO, rs1: ZERO, csr: CSRS.hedeleg }), ins('csrrw', { rd: ZERO, rs1: ZERO, csr: CSRS.hideleg }));
    else if (virt) {
      items.push(...li(T1, r.u64() & HEDELEG_HYP), ins('csrrw', { rd: ZERO, rs1: T1, csr: CSRS.hedeleg }));
      items.push(ins('csrrwi', { rd: ZERO, zimm: r.chance(0.5) ? 4 : 0, csr: CSRS.hideleg }));
    }
    if (this.two) {
      // two-stage: vsatp (the VS or the VU root; VS for HLV from HS/M) and hgatp, then fences
      items.push(...li(T1, (8n << 60n) | (this.two.roots[virt && mode === 0 ? 1 : 0] >> 12n)), ins('csrrw', { rd: ZERO, rs1: T1, csr: CSRS.vsatp }));
      items.push(...li(T1, (8n << 60n) | (this.two.gRoot >> 12n)), ins('csrrw', { rd: ZERO, rs1: T1, csr: CSRS.hgatp }));
      items.push(ins('hfence.gvma', { rs1: ZERO, rs2: ZERO }), ins('hfence.vvma', { rs1: ZERO, rs2: ZERO }));
    }
    const MPV = 1n << 39n;
    items.push(...li(T1, 0x1800n | MPV), ins('csrrc', { rd: ZERO, rs1: T1, csr: CSRS.mstatus }));
    if (r.chance(0.5)) items.push(...li(T1, 1n << 7n), ins(r.pick(['csrrs', 'csrrc']), { rd: ZERO, rs1: T1, csr: CSRS.mstatus })); // MPIE
    if (virt && r.chance(0.35)) {
      // through HS: MRET to the stub below (HS), which SRETs to the block
      const at = items.length;
      items.push(...la(T1, { local: 0 }, at));
      const laAt = at;
      items.push(ins('csrrw', { rd: ZERO, rs1: T1, csr: CSRS.mepc }));
      items.push(...li(T1, 0x800n), ins('csrrs', { rd: ZERO, rs1: T1, csr: CSRS.mstatus }));
      items.push(ins('mret'));
      const stub = items.length;
      (items[laAt] as { ref: unknown }).ref = { local: stub };
      (items[laAt + 1] as { ref: unknown }).ref = { local: stub };
      items.push(ins('csrrw', { rd: ZERO, rs1: T0, csr: CSRS.sepc }));
      items.push(...li(T1, 1n << 7n), ins('csrrs', { rd: ZERO, rs1: T1, csr: CSRS.hstatus })); // SPV
      items.push(...li(T1, 1n << 8n), ins(mode ? 'csrrs' : 'csrrc', { rd: ZERO, rs1: T1, csr: CSRS.sstatus })); // SPP
      if (r.chance(0.5)) items.push(...li(T1, 1n << 5n), ins(r.pick(['csrrs', 'csrrc']), { rd: ZERO, rs1: T1, csr: CSRS.sstatus })); // SPIE
      items.push(ins('sret'));
      return this.step(mode ? 'enter-VS-sret' : 'enter-VU-sret', items);
    }
    items.push(ins('csrrw', { rd: ZERO, rs1: T0, csr: CSRS.mepc }));
    const set = (BigInt(mode) << 11n) | (virt ? MPV : 0n);
    if (set) items.push(...li(T1, set), ins('csrrs', { rd: ZERO, rs1: T1, csr: CSRS.mstatus }));
    items.push(ins('mret'));
    return this.step(`enter-${virt ? 'V' : ''}${mode ? (virt ? 'S' : 'HS') : 'U'}`, items);
  }

  /** in a VU-mode block */
  vu(): boolean {
    return this.virt && this.mode === 0;
  }

  /**
   * HLV/HLVX/HSV: legal in M and HS (and U with hstatus.HU). Not with V=1 (a virtual-instruction
   * exception): QEMU 7.2 writes a stale instruction or zero to its tval (docs).
   */
  hlv(): Step {
    const r = this.r;
    // only where they are legal: with V=1 (virtual instruction) and in U without HU (illegal)
    // QEMU 7.2 writes a stale instruction or zero to tval
    if (this.virt || this.mode === 0) return this.alu();
    const items: Item[] = [];
    let spvp = -1;
    if (this.two || r.chance(0.3)) {
      // SPVP: the privilege of the guest access (VS or VU); always set with two-stage translation
      const t = this.xt();
      spvp = r.int(2);
      items.push(...li(t, 1n << 8n), ins(spvp ? 'csrrs' : 'csrrc', { rd: ZERO, rs1: t, csr: CSRS.hstatus }));
    }
    const [name, size, store] = r.pick([
      ['hlv.b', 1, false], ['hlv.bu', 1, false], ['hlv.h', 2, false], ['hlv.hu', 2, false], ['hlv.w', 4, false],
      ['hlv.wu', 4, false], ['hlv.d', 8, false], ['hlvx.hu', 2, false], ['hlvx.wu', 4, false],
      ['hsv.b', 1, true], ['hsv.h', 2, true], ['hsv.w', 4, true], ['hsv.d', 8, true],
    ] as [string, number, boolean][]);
    const base = this.xt();
    const k = r.int(10);
    // scratch (aligned mostly), or an address nothing answers (access fault, GVA = 1)
    // (with two-stage translation aligned only: QEMU 7.2 gives a misaligned access's page fault the
    // aligned-down address)
    const addr = k < 8 ? this.scratchAddr(size, k < 6 || this.two !== undefined) : r.pick([0n, 0x8800_0000n, 0x2_0000_0000n]) + BigInt(r.int(8) * 8);
    // with two-stage translation only where neither stage can fault: QEMU 7.2 reports a
    // VS-stage page fault of HLV/HSV as an access fault (5/7 for 13/15)
    // (and no HLVX: QEMU 7.2 raises a load access fault for an HLVX of an execute-only page)
    if (this.two && (k >= 8 || name.startsWith('hlvx') || !this.twoOk(addr, size, store, spvp === 0 ? 0 : 1))) return this.alu();
    items.push(...li(base, addr));
    items.push(store ? ins(name, { rs1: base, rs2: this.xs() }) : ins(name, { rd: this.xd(), rs1: base }));
    this.traps += k >= 6 ? 1 : 0;
    return this.step(name.startsWith('hsv') ? 'hsv' : 'hlv', items);
  }

  /** HFENCE.VVMA/GVMA (virtual instruction with V=1, illegal in U, GVMA illegal in HS with TVM) */
  hfence(): Step {
    // not with V=1: QEMU 7.2 raises illegal instruction, the spec virtual instruction
    if (this.virt) return this.alu();
    this.traps += this.virt || this.mode === 0 ? 1 : 0.3;
    return this.step('hfence', [ins(this.r.pick(['hfence.vvma', 'hfence.gvma']), { rs1: this.xs(), rs2: this.xs() })]);
  }

  /**
   * SRET (and MRET) below M: in HS and VS an SRET back to the step's end (SPP = S, SPV = 0 in
   * HS; VTSR makes it a virtual-instruction exception in VS); in U and VU both trap.
   */
  xret(): Step {
    const r = this.r;
    const items: Item[] = [];
    // only SRETs that return (HS, and VS without VTSR): QEMU 7.2 writes a stale instruction to
    // tval for a trapping MRET/SRET, and raises illegal instruction for SRET in VU-mode
    if (this.mode !== 1 || (this.virt && this.vt & (4n << 20n))) return this.alu();
    if (this.mode === 1) {
      const t = this.xt();
      if (!this.virt) items.push(...li(t, 1n << 7n), ins('csrrc', { rd: ZERO, rs1: t, csr: CSRS.hstatus }));
      items.push(...li(t, 1n << 8n), ins('csrrs', { rd: ZERO, rs1: t, csr: CSRS.sstatus }));
      if (r.chance(0.5)) items.push(...li(t, 1n << 5n), ins(r.pick(['csrrs', 'csrrc']), { rd: ZERO, rs1: t, csr: CSRS.sstatus }));
      const at = items.length;
      items.push(...la(t, { end: true }, at), ins('csrrw', { rd: ZERO, rs1: t, csr: CSRS.sepc }), ins('sret'));
      if (this.virt && this.vt & (4n << 20n)) this.traps++;
      return this.step('sret', items);
    }
    this.traps++;
    // (no SRET in VU-mode: QEMU 7.2 raises illegal instruction, the spec virtual instruction)
    return this.step('xret-trap', [ins(this.mode === 1 || this.vu() || r.chance(0.3) ? 'mret' : 'sret')]);
  }

  /** WFI where it must trap: U (illegal), VU (virtual), VS with VTW (virtual) */
  wfi(): Step | undefined {
    if (this.mode === 3 || (this.mode === 1 && !(this.virt && this.vt & (2n << 20n)))) return undefined;
    this.traps++;
    return this.step('wfi', [ins('wfi')]);
  }

  /** SFENCE.VMA: VS with VTVM and VU raise virtual instruction, U illegal */
  sfence(): Step {
    if (this.vu()) return this.alu(); // QEMU 7.2: illegal instruction, the spec: virtual instruction
    if (this.mode === 0 || (this.virt && this.vt & (1n << 20n))) this.traps++;
    return this.step('sfence', [ins('sfence.vma', { rs1: this.xs(), rs2: this.xs() })]);
  }

  /** one body step of the flavour */
  body(): Step {
    const r = this.r;
    const w: Record<Flavour, Partial<Record<string, number>>> = {
      integer: { alu: 50, li: 8, control: 12, mem: 20, misc: 2, loop: 5, smc: 3 },
      fp: { fp: 60, fpinject: 10, fpcsr: 8, mem: 12, alu: 8 },
      compressed: { c: 60, alu: 15, mem: 10, control: 10, li: 5, loop: 3, smc: 3 },
      atomics: { amo: 35, lrsc: 30, mem: 20, alu: 15 },
      traps: { trap: 35, alu: 25, mem: 15, amo: 5, fp: 5, csr: 5, c: 10 },
      csr: { csr: 50, alu: 15, mem: 10, fp: 10, trap: 5, fpcsr: 10 },
      privilege: { alu: 25, mem: 15, csr: 15, trap: 12, c: 10, fp: 8, amo: 5, lrsc: 5, control: 5, irq: 8 },
      paging: { alu: 15, mem: 30, amo: 8, lrsc: 6, c: 10, fp: 4, csr: 8, trap: 8, control: 4, misc: 4, sum: 6 },
      mixed: { alu: 20, li: 4, control: 8, mem: 12, amo: 6, lrsc: 5, fp: 15, fpcsr: 3, c: 12, csr: 8, trap: 6, misc: 1, loop: 2, smc: 2 },
      hypervisor: { alu: 14, mem: 10, csr: 24, trap: 8, c: 5, fp: 5, amo: 3, lrsc: 2, control: 3, hlv: 10, hfence: 3, xret: 4, wfi: 2, sfence: 3, irq: 3 },
    };
    const k = r.weighted(w[this.flavour]);
    // the trap log is bounded: beyond it, no more deliberate traps
    if ((k === 'trap' || blocky(this.flavour)) && this.traps > 120) return this.alu();
    switch (k) {
      case 'alu': return this.alu();
      case 'li': return this.liStep();
      case 'control': return this.control();
      case 'mem': return this.mem();
      case 'amo': return this.amo();
      case 'lrsc': return this.lrsc();
      case 'fp': return this.fp();
      case 'fpinject': return this.fpInject();
      case 'fpcsr': return this.fpCsr();
      case 'c': return this.guest() ? this.alu() : this.compressed(); // (its accesses may be misaligned)
      case 'csr': return this.csr();
      case 'trap': return this.trap();
      case 'loop': return this.loop();
      case 'smc': return this.smc();
      case 'irq': return this.virt ? this.alu() : this.irq(); // (V=1: sie/sip are vsie/vsip, see noRmw)
      case 'sum': return this.sumMxr();
      case 'hlv': return this.hlv();
      case 'hfence': return this.hfence();
      case 'xret': return this.xret();
      case 'wfi': return this.wfi() ?? this.alu();
      case 'sfence': return this.sfence();
      default: return this.misc();
    }
  }

  bodySteps(n: number): Step[] {
    const out: Step[] = [];
    if (!blocky(this.flavour)) {
      for (let i = 0; i < n; i++) out.push(this.body());
      return out;
    }
    // blocks in M, S and U, or for the hypervisor flavour in M, HS, U, VS and VU; every trap
    // counts (ECALLs, and most CSR accesses from U)
    const hyper = this.flavour === 'hypervisor';
    while (out.length < n) {
      const [mode, virt] = hyper
        ? this.r.pick([[3, false], [1, false], [0, false], [1, true], [1, true], [0, true], [0, true]] as [number, boolean][])
        : [this.r.pick([0, 1, 3]), false];
      if (mode !== 3) out.push(hyper ? this.enterH(mode, virt) : this.enter(mode));
      this.mode = mode;
      this.virt = virt;
      const len = this.r.range(3, 25);
      for (let i = 0; i < len && out.length < n; i++) {
        out.push(this.body());
        this.traps += 0.3;
      }
      if (mode !== 3) out.push(this.leave());
      this.mode = 3;
      this.virt = false;
      if (hyper) this.vt = 0n;
      this.traps += 1;
    }
    return out;
  }

  // ---- fixed parts

  initData(): { bytes: Uint8Array; xs: bigint[]; fs: bigint[]; fcsr: bigint; mem: bigint[] } {
    const r = this.r;
    const xs = Array.from({ length: 32 }, (_, i) => (i === 0 ? 0n : int64(r)));
    xs[SP] = SCRATCH + BigInt(r.int(SCRATCH_SIZE / 8) * 8); // a usable stack pointer to start with
    const fs = Array.from({ length: 32 }, () => fReg(r));
    const fcsr = BigInt(r.int(5) << 5);
    const mem = Array.from({ length: SCRATCH_SIZE / 8 }, () => int64(r));
    const bytes = new Uint8Array(8 * (32 + 32 + 1 + 32));
    const dv = new DataView(bytes.buffer);
    mem.forEach((v, i) => dv.setBigUint64(8 * i, v, true));
    fs.forEach((v, i) => dv.setBigUint64(8 * (32 + i), v, true));
    dv.setBigUint64(8 * 64, fcsr, true);
    xs.forEach((v, i) => dv.setBigUint64(8 * (65 + i), v, true));
    return { bytes, xs, fs, fcsr, mem };
  }

  prologue(): Step {
    const items: Item[] = [{ k: 'org', addr: INIT }, { k: 'sym', name: 'init' }];
    items.push(...li(GPR, GP));
    items.push(...li(T0, HANDLER_M), ins('csrrw', { rd: ZERO, rs1: T0, csr: CSRS.mtvec }));
    items.push(...li(T0, HANDLER_S), ins('csrrw', { rd: ZERO, rs1: T0, csr: CSRS.stvec }));
    // mstatus: FS dirty, MPP = M, everything else as reset
    items.push(...li(T0, (3n << 13n) | (3n << 11n) | XL_RV64), ins('csrrw', { rd: ZERO, rs1: T0, csr: CSRS.mstatus }));
    // no timer interrupt pending (QEMU's mtimecmp resets to 0, wasmvisor's to the maximum)
    items.push(...li(T0, MTIMECMP), ins('addi', { rd: T1, rs1: ZERO, imm: -1 }), ins('sd', { rs1: T0, rs2: T1, imm: 0 }));
    items.push(...li(T0, LOG), ins('sd', { rs1: GPR, rs2: T0, imm: LOGPTR_OFF }));
    // QEMU 7.2 resets mideleg to 0 and sets its read-only-one VS bits (2, 6, 10) only when
    // mideleg is written; the spec has them one from reset: one write makes both agree
    items.push(ins('csrrw', { rd: ZERO, rs1: ZERO, csr: CSRS.mideleg }));
    items.push(...li(T0, HANDLER_VS), ins('csrrw', { rd: ZERO, rs1: T0, csr: CSRS.vstvec }));
    if (this.flavour === 'hypervisor') {
      // VS-mode may use the FPU; random delegation of exceptions to HS and on to VS
      items.push(...li(T0, (3n << 13n) | (2n << 32n)), ins('csrrw', { rd: ZERO, rs1: T0, csr: CSRS.vsstatus }));
      items.push(...li(T0, this.r.u64() & 0xf0_b7f7n), ins('csrrw', { rd: ZERO, rs1: T0, csr: CSRS.medeleg }));
      items.push(...li(T0, this.r.u64() & HEDELEG_HYP), ins('csrrw', { rd: ZERO, rs1: T0, csr: CSRS.hedeleg }));
    }
    if (blocky(this.flavour)) {
      // PMP: one NAPOT entry over everything, RWX, so S and U can reach memory
      items.push(...li(T0, PMPADDR_MASK), ins('csrrw', { rd: ZERO, rs1: T0, csr: CSRS.pmpaddr0 }));
      items.push(ins('addi', { rd: T0, rs1: ZERO, imm: 0x1f }), ins('csrrw', { rd: ZERO, rs1: T0, csr: CSRS.pmpcfg0 }));
    }
    for (const [a, v] of [...(this.paging?.ptes ?? []), ...(this.two?.ptes ?? [])]) items.push(...li(T0, a), ...li(T1, v), ins('sd', { rs1: T0, rs2: T1, imm: 0 }));
    const at = items.length;
    items.push(...la(T0, { sym: 'initdata' }, at));
    items.push(...li(T1, SCRATCH));
    for (let i = 0; i < SCRATCH_SIZE / 8; i++) items.push(ins('ld', { rd: T2, rs1: T0, imm: 8 * i }), ins('sd', { rs1: T1, rs2: T2, imm: 8 * i }));
    for (let i = 0; i < 32; i++) items.push(ins('fld', { frd: i, rs1: T0, imm: 8 * (32 + i) }));
    items.push(ins('ld', { rd: T1, rs1: T0, imm: 8 * 64 }), ins('csrrw', { rd: ZERO, rs1: T1, csr: CSRS.fcsr }));
    for (let i = 1; i < 32; i++) if (i !== GPR && i !== T0) items.push(ins('ld', { rd: i, rs1: T0, imm: 8 * (65 + i) }));
    items.push(ins('ld', { rd: T0, rs1: T0, imm: 8 * (65 + T0) }));
    return { kind: 'prologue', items };
  }

  /**
   * Log one trap: t0 = log pointer (checked against LOG_END), then the 8 fields (see LOG).
   * `fields`: CSR numbers of cause, epc, tval, tval2, tinst (0: zero) and the status fields
   * [csr, mask] ORed into the seventh. Clobbers t0, t1.
   */
  logTrap(i: Item[], marker: number, fields: number[], status: [number, bigint][]): void {
    i.push(ins('ld', { rd: T0, rs1: GPR, imm: LOGPTR_OFF }));
    // log full: a trap storm; stop (FAIL) rather than overwrite memory
    // (the two-stage variant's VS handler writes the log through its page tables: pages 0x100-0x102)
    i.push(...li(T2, this.two ? GP + 0x3000n : LOG_END));
    i.push(ins('bgeu', { rs1: T0, rs2: T2 }, { sym: 'fatal' }));
    i.push(ins('addi', { rd: T1, rs1: ZERO, imm: marker }), ins('sd', { rs1: T0, rs2: T1, imm: 0 }));
    fields.forEach((csr, k) => {
      if (!csr) {
        i.push(ins('sd', { rs1: T0, rs2: ZERO, imm: 8 * (k + 1) }));
        return;
      }
      i.push(ins('csrrs', { rd: T1, rs1: ZERO, csr }));
      if (csr === CSRS.mtinst || csr === CSRS.htinst) {
        // tinst: only pseudoinstructions (bits 1:0 = 00; implicit accesses of a VS-stage walk) are
        // compared: for other traps the spec allows zero or a transformed instruction, and QEMU
        // 7.2 writes zero where wasmvisor transforms. A transformed instruction is logged as 0 and
        // cleared from the register (QEMU 7.2 ignores writes of htinst: a pseudoinstruction stays)
        i.push(ins('andi', { rd: T2, rs1: T1, imm: 3 }));
        i.push(ins('beq', { rs1: T2, rs2: ZERO }, { local: i.length + 3 }), ins('addi', { rd: T1, rs1: ZERO, imm: 0 }));
        i.push(ins('csrrw', { rd: ZERO, rs1: ZERO, csr }));
      }
      i.push(ins('sd', { rs1: T0, rs2: T1, imm: 8 * (k + 1) }));
    });
    i.push(ins('sd', { rs1: T0, rs2: ZERO, imm: 48 }));
    for (const [csr, mask] of status) {
      i.push(ins('csrrs', { rd: T1, rs1: ZERO, csr }), ...li(T2, mask), ins('and', { rd: T1, rs1: T1, rs2: T2 }));
      i.push(ins('ld', { rd: T2, rs1: T0, imm: 48 }), ins('or', { rd: T1, rs1: T1, rs2: T2 }), ins('sd', { rs1: T0, rs2: T1, imm: 48 }));
    }
    i.push(ins('sd', { rs1: T0, rs2: ZERO, imm: 56 }));
    i.push(ins('addi', { rd: T0, rs1: T0, imm: LOG_ENTRY }), ins('sd', { rs1: GPR, rs2: T0, imm: LOGPTR_OFF }));
  }

  /** branches from the cause in t1 to `target` for the fetch faults (1, 12, 20: resume at ra) */
  toFetch(i: Item[]): number[] {
    const at: number[] = [];
    for (const c of [1, 12, 20]) {
      i.push(ins('addi', { rd: T2, rs1: ZERO, imm: c }));
      at.push(i.length);
      i.push(ins('beq', { rs1: T1, rs2: T2 }, { local: 0 }));
    }
    return at;
  }

  handlerM(): Step {
    const i: Item[] = [{ k: 'org', addr: HANDLER_M }];
    const n = () => i.length;
    const hyp = this.flavour === 'hypervisor';
    i.push(ins('sd', { rs1: GPR, rs2: T0, imm: 0 }), ins('sd', { rs1: GPR, rs2: T1, imm: 8 }), ins('sd', { rs1: GPR, rs2: T2, imm: 16 }));
    this.logTrap(i, 3, [CSRS.mcause, CSRS.mepc, CSRS.mtval, CSRS.mtval2, CSRS.mtinst], [[CSRS.mstatus, MSTATUS_MPV_GVA | MSTATUS_MPP]]);
    // mstatus.GVA: QEMU 7.2 sets it for any trap from V=1 with a nonzero mtval (instruction
    // bits too) and never clears it. The log keeps GVA only for the address exceptions from V=1, and the
    // handler clears it, so that each trap starts from GVA = 0 (docs/differential-testing.md).
    i.push(ins('csrrs', { rd: T1, rs1: ZERO, csr: CSRS.mcause }), ...li(T2, ADDRESS_CAUSES), ins('srl', { rd: T2, rs1: T2, rs2: T1 }));
    i.push(ins('andi', { rd: T2, rs1: T2, imm: 1 }));
    // ... and taken from V=1 (QEMU 7.2 never sets GVA for the faults of HLV/HSV from M or HS)
    i.push(ins('csrrs', { rd: T1, rs1: ZERO, csr: CSRS.mstatus }), ins('srli', { rd: T1, rs1: T1, imm: 39 }), ins('and', { rd: T2, rs1: T2, rs2: T1 }));
    const keepGva = n();
    i.push(ins('bne', { rs1: T2, rs2: ZERO }, { local: 0 }));
    i.push(ins('ld', { rd: T1, rs1: T0, imm: 48 - LOG_ENTRY }), ...li(T2, ~(1n << 38n) & M64), ins('and', { rd: T1, rs1: T1, rs2: T2 }));
    i.push(ins('sd', { rs1: T0, rs2: T1, imm: 48 - LOG_ENTRY }));
    (i[keepGva] as { ref: unknown }).ref = { local: n() };
    i.push(...li(T2, 1n << 38n), ins('csrrc', { rd: ZERO, rs1: T2, csr: CSRS.mstatus }));
    i.push(ins('csrrs', { rd: T1, rs1: ZERO, csr: CSRS.mcause }));
    const toIrq = n();
    i.push(ins('blt', { rs1: T1, rs2: ZERO }, { local: 0 })); // an interrupt: patched below
    const toFetch = this.toFetch(i);
    // the magic trap with t6 == MAGIC: return to M-mode. ECALL (8-11); in the hypervisor
    // flavour EBREAK (3), which is never delegated, so that ECALLs can be
    const skips: number[] = [];
    if (hyp) {
      i.push(ins('addi', { rd: T2, rs1: ZERO, imm: 3 }));
      skips.push(n());
      i.push(ins('bne', { rs1: T1, rs2: T2 }, { local: 0 }));
    } else {
      i.push(ins('addi', { rd: T2, rs1: T1, imm: -8 }), ins('sltiu', { rd: T2, rs1: T2, imm: 4 }));
      skips.push(n());
      i.push(ins('beq', { rs1: T2, rs2: ZERO }, { local: 0 }));
    }
    i.push(...li(T2, MAGIC));
    skips.push(n());
    i.push(ins('bne', { rs1: T6, rs2: T2 }, { local: 0 }));
    // MPP = M (and MPV = 0); t6 cleared, so a later ECALL in the block cannot return to M by accident
    i.push(...li(T2, 0x1800n), ins('csrrs', { rd: ZERO, rs1: T2, csr: CSRS.mstatus }), ins('addi', { rd: T6, rs1: ZERO, imm: 0 }));
    if (hyp) i.push(...li(T2, 1n << 39n), ins('csrrc', { rd: ZERO, rs1: T2, csr: CSRS.mstatus }));
    const skip = n();
    // mepc += length of the instruction there (2 or 4)
    skipInsn(i, CSRS.mepc);
    const ret = n();
    i.push(ins('ld', { rd: T0, rs1: GPR, imm: 0 }), ins('ld', { rd: T1, rs1: GPR, imm: 8 }), ins('ld', { rd: T2, rs1: GPR, imm: 16 }));
    i.push(ins('mret'));
    const fetch = n();
    i.push(ins('csrrw', { rd: ZERO, rs1: RA, csr: CSRS.mepc }), ins('jal', { rd: ZERO }, { local: ret }));
    // an interrupt: clear the software-writable pending bits (VSSIP too), resume where it was taken
    const irq = n();
    i.push(...li(T1, 0x226n), ins('csrrc', { rd: ZERO, rs1: T1, csr: CSRS.mip }), ins('jal', { rd: ZERO }, { local: ret }));
    // fatal: FAIL through the test device
    i.push({ k: 'sym', name: 'fatal' }, ...li(T0, TEST_DEV), ...li(T1, 0x1_3333n), ins('sw', { rs1: T0, rs2: T1, imm: 0 }));
    i.push(ins('jal', { rd: ZERO }, { local: i.length }));
    const patch = (at: number, to: number) => ((i[at] as { ref: unknown }).ref = { local: to });
    for (const at of toFetch) patch(at, fetch);
    patch(toIrq, irq);
    for (const at of skips) patch(at, skip);
    return { kind: 'handler-M', items: i };
  }

  /**
   * The HS-mode handler (stvec; `vs` false) or the VS-mode one (vstvec; `vs` true: running with
   * V=1, its sstatus/scause/sepc/stval are the VS CSRs). Log, skip the instruction, SRET; fetch
   * faults resume at ra; an interrupt clears SSIP (and, in HS, hvip.VSSIP) and resumes.
   */
  handlerS(vs = false): Step {
    const i: Item[] = [{ k: 'org', addr: vs ? HANDLER_VS : HANDLER_S }];
    const n = () => i.length;
    // its own save area (an M trap inside it must not overwrite its t0-t2)
    const SAVE = vs ? 0x700 : 0x28;
    i.push(ins('sd', { rs1: GPR, rs2: T0, imm: SAVE }), ins('sd', { rs1: GPR, rs2: T1, imm: SAVE + 8 }), ins('sd', { rs1: GPR, rs2: T2, imm: SAVE + 16 }));
    if (vs) this.logTrap(i, 2, [CSRS.scause, CSRS.sepc, CSRS.stval, 0, 0], [[CSRS.sstatus, 1n << 8n]]);
    else {
      this.logTrap(i, 1, [CSRS.scause, CSRS.sepc, CSRS.stval, CSRS.htval, CSRS.htinst], [[CSRS.hstatus, 0x1c0n], [CSRS.sstatus, 1n << 8n]]);
      // QEMU 7.2 also writes hstatus.GVA on a trap into VS-mode (the spec: only into HS): the
      // handler clears it after logging, so that it is 0 whenever V=1 (docs)
      i.push(ins('addi', { rd: T1, rs1: ZERO, imm: 0x40 }), ins('csrrc', { rd: ZERO, rs1: T1, csr: CSRS.hstatus }));
    }
    i.push(ins('csrrs', { rd: T1, rs1: ZERO, csr: CSRS.scause }));
    const toIrq = n();
    i.push(ins('blt', { rs1: T1, rs2: ZERO }, { local: 0 }));
    const toFetch = this.toFetch(i);
    skipInsn(i, CSRS.sepc);
    const ret = n();
    i.push(ins('ld', { rd: T0, rs1: GPR, imm: SAVE }), ins('ld', { rd: T1, rs1: GPR, imm: SAVE + 8 }), ins('ld', { rd: T2, rs1: GPR, imm: SAVE + 16 }));
    i.push(ins('sret'));
    const fetch = n();
    i.push(ins('csrrw', { rd: ZERO, rs1: RA, csr: CSRS.sepc }), ins('jal', { rd: ZERO }, { local: ret }));
    // an interrupt (only SSIP, and VSSIP, can reach S here): clear it, resume where it was taken
    const irq = n();
    i.push(ins('csrrci', { rd: ZERO, zimm: 2, csr: CSRS.sip }));
    if (!vs) i.push(ins('csrrci', { rd: ZERO, zimm: 4, csr: CSRS.hvip }));
    i.push(ins('jal', { rd: ZERO }, { local: ret }));
    const patch = (at: number, to: number) => ((i[at] as { ref: unknown }).ref = { local: to });
    for (const at of toFetch) patch(at, fetch);
    patch(toIrq, irq);
    return { kind: vs ? 'handler-VS' : 'handler-S', items: i };
  }

  /** the dump: returns the step and the names of the lines it prints before the trap log */
  epilogue(): { step: Step; names: string[] } {
    const i: Item[] = [{ k: 'sym', name: 'dump' }];
    const names: string[] = [];
    const D = DUMP_OFF;
    for (let x = 1; x < 32; x++) {
      i.push(ins('sd', { rs1: GPR, rs2: x, imm: D + 8 * x }));
      names.push(`x${x}`);
    }
    // back to M-mode if a privilege block was cut short (in M it is one more ECALL in the log)
    if (blocky(this.flavour)) i.push(...li(T6, MAGIC), ins(this.flavour === 'hypervisor' ? 'ebreak' : 'ecall'));
    let off = D + 8 * 32;
    for (const [name, num] of DUMP_CSRS) {
      i.push(ins('csrrs', { rd: T0, rs1: ZERO, csr: num }), ...normaliseRead(name, T0, T1), ins('sd', { rs1: GPR, rs2: T0, imm: off }));
      names.push(name);
      off += 8;
    }
    i.push(...li(T0, 3n << 13n), ins('csrrs', { rd: ZERO, rs1: T0, csr: CSRS.mstatus }));
    i.push(ins('csrrs', { rd: T0, rs1: ZERO, csr: CSRS.fcsr }), ins('sd', { rs1: GPR, rs2: T0, imm: off }));
    names.push('fcsr');
    off += 8;
    for (let f = 0; f < 32; f++) {
      i.push(ins('fsd', { rs1: GPR, frs2: f, imm: off + 8 * f }));
      names.push(`f${f}`);
    }
    off += 8 * 32;
    // PTEs whose A and D bits the hardware may have set
    const ptes = [...(this.paging?.dump ?? []), ...(this.two?.dump ?? [])];
    for (const [name, a] of ptes) {
      i.push(...li(T0, a), ins('ld', { rd: T1, rs1: T0, imm: 0 }), ins('sd', { rs1: GPR, rs2: T1, imm: off }));
      names.push(name);
      off += 8;
    }
    const nDump = 31 + DUMP_CSRS.length + 1 + 32 + ptes.length;
    // print: begin marker, the dump, the scratch memory, the trap log, end marker. Bytes go
    // out only when the UART says THR is empty (QEMU's UART pushes back when its host side
    // is slow; a byte written into a busy THR would be lost).
    const text = (s: string) => {
      i.push(...li(T0, UART));
      for (const ch of s) i.push(ins('addi', { rd: T3, rs1: ZERO, imm: ch.charCodeAt(0) }), ins('jal', { rd: T5 }, { sym: 'putc' }));
    };
    text('@@\n');
    i.push(...li(A0, GP + BigInt(D + 8)), ...li(A1, BigInt(nDump)), ins('jal', { rd: RA }, { sym: 'print' }));
    for (let m = 0; m < SCRATCH_SIZE / 8; m++) names.push(`mem[0x${(SCRATCH + BigInt(8 * m)).toString(16)}]`);
    i.push(...li(A0, SCRATCH), ...li(A1, BigInt(SCRATCH_SIZE / 8)), ins('jal', { rd: RA }, { sym: 'print' }));
    i.push(...li(A0, LOG), ins('ld', { rd: A1, rs1: GPR, imm: LOGPTR_OFF }), ins('sub', { rd: A1, rs1: A1, rs2: A0 }));
    i.push(ins('srli', { rd: A1, rs1: A1, imm: 3 }), ins('jal', { rd: RA }, { sym: 'print' }));
    text('##\n');
    // wait until the transmitter is empty (LSR.TEMT), then power off
    const temt = i.length;
    i.push(ins('lbu', { rd: T4, rs1: T0, imm: 5 }), ins('andi', { rd: T4, rs1: T4, imm: 0x40 }), ins('beq', { rs1: T4, rs2: ZERO }, { local: temt }));
    i.push(...li(T0, TEST_DEV), ...li(T1, 0x5555n), ins('sw', { rs1: T0, rs2: T1, imm: 0 }));
    i.push(ins('jal', { rd: ZERO }, { local: i.length }));
    // putc(t3), t0 = UART, returns through t5: wait for LSR.THRE
    i.push({ k: 'sym', name: 'putc' });
    const wait = i.length;
    i.push(ins('lbu', { rd: T4, rs1: T0, imm: 5 }), ins('andi', { rd: T4, rs1: T4, imm: 0x20 }), ins('beq', { rs1: T4, rs2: ZERO }, { local: wait }));
    i.push(ins('sb', { rs1: T0, rs2: T3, imm: 0 }), ins('jalr', { rd: ZERO, rs1: T5, imm: 0 }));
    // print(a0 = address, a1 = count of dwords): 16 hex digits and a newline each
    i.push({ k: 'sym', name: 'print' }, ...li(T0, UART));
    const loop = i.length;
    i.push(ins('beq', { rs1: A1, rs2: ZERO }, { local: loop + 17 }));
    i.push(ins('ld', { rd: T1, rs1: A0, imm: 0 }), ins('addi', { rd: T2, rs1: ZERO, imm: 60 }));
    const digit = i.length;
    i.push(ins('srl', { rd: T3, rs1: T1, rs2: T2 }), ins('andi', { rd: T3, rs1: T3, imm: 15 }));
    i.push(ins('addi', { rd: T4, rs1: T3, imm: -10 }), ins('blt', { rs1: T4, rs2: ZERO }, { local: digit + 5 }));
    i.push(ins('addi', { rd: T3, rs1: T3, imm: 39 })); // 'a' - '0' - 10
    i.push(ins('addi', { rd: T3, rs1: T3, imm: 48 }), ins('jal', { rd: T5 }, { sym: 'putc' }));
    i.push(ins('addi', { rd: T2, rs1: T2, imm: -4 }), ins('bge', { rs1: T2, rs2: ZERO }, { local: digit }));
    i.push(ins('addi', { rd: T3, rs1: ZERO, imm: 10 }), ins('jal', { rd: T5 }, { sym: 'putc' }));
    i.push(ins('addi', { rd: A0, rs1: A0, imm: 8 }), ins('addi', { rd: A1, rs1: A1, imm: -1 }));
    i.push(ins('jal', { rd: ZERO }, { local: loop }));
    if (i.length !== loop + 17) throw new Error('print loop miscounted');
    i.push(ins('jalr', { rd: ZERO, rs1: RA, imm: 0 }));
    return { step: { kind: 'epilogue', items: i }, names };
  }
}

/** Generate the program of `seed` in `flavour`. */
export function generate(seed: number, flavour: Flavour, opts: GenOptions = {}): Program {
  const g = new Gen(seed, flavour);
  const n = opts.steps ?? 200;
  const init = g.initData();
  const body = g.bodySteps(n);
  const hm = g.handlerM();
  const hs = g.handlerS();
  const hvs = g.handlerS(true);
  const pro = g.prologue();
  const { step: epi, names } = g.epilogue();
  const entry: Step = { kind: 'entry', items: [ins('jal', { rd: ZERO }, { sym: 'init' })] };
  return {
    seed,
    flavour,
    body,
    names,
    build(count = body.length) {
      const data: Step = { kind: 'data', items: [{ k: 'align', n: 8 }, { k: 'sym', name: 'initdata' }, { k: 'bytes', data: init.bytes }] };
      const lay = assemble(CODE, [entry, hm, hs, hvs, pro, ...body.slice(0, count), epi, data]);
      if (CODE + BigInt(lay.bytes.length) > GP) throw new Error('program too large');
      return { ...lay, bodyStart: 5 };
    },
  };
}

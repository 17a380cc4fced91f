// Bare-metal guest workloads for the MIPS benchmarks, built with wasmvisor's own assembler
// so no cross toolchain is needed and the same bytes run in wasmvisor and in QEMU.
//
// Every image: M-mode prologue (PMP open, Sv39 page tables, mret to S-mode), then the
// workload in S-mode with the MMU on, then ECALL -> M-mode handler -> SiFive test poweroff.
// Layout: code at 0x8000_0000 (a 2 MiB megapage), page tables at 0x8010_0000, an 8 MiB data
// array at 0x8020_0000 mapped with 4 KiB pages (so the memory workload stresses the TLB).
import { Program, R } from '../dist/index.js';

const ROOT = 0x8010_0000n;
const L1 = 0x8010_1000n;
const L0 = 0x8010_2000n; // four level-0 tables
export const DATA = 0x8020_0000n;
export const DATA_PAGES = 2048; // 8 MiB
const PTE_LEAF = 0xcf; // V R W X A D
const PTE_PTR = 0x01; // V
export const RAM_BYTES = 64n << 20n;

function pte(pa, flags) {
  return ((pa >> 12n) << 10n) | BigInt(flags);
}

function prologue(p) {
  const { t0, t1, t2, a0, a1, a2 } = R;
  // PMP entry 0: all of memory, RWX, for S and U (privileged spec 3.7)
  p.li(t0, -1).i('csrrw', { rd: 0, rs1: t0, csr: 0x3b0 });
  p.li(t0, 0x1f).i('csrrw', { rd: 0, rs1: t0, csr: 0x3a0 });
  p.la(t0, 'mtrap').i('csrrw', { rd: 0, rs1: t0, csr: 0x305 });
  // L0 tables: DATA_PAGES 4 KiB pages from DATA
  p.li(a0, L0).li(a1, DATA).li(a2, DATA_PAGES).li(t2, 4096);
  p.label('pt0').i('srli', { rd: t0, rs1: a1, imm: 12 }).i('slli', { rd: t0, rs1: t0, imm: 10 })
    .i('ori', { rd: t0, rs1: t0, imm: PTE_LEAF }).i('sd', { rs1: a0, rs2: t0, imm: 0 })
    .i('addi', { rd: a0, rs1: a0, imm: 8 }).i('add', { rd: a1, rs1: a1, rs2: t2 })
    .i('addi', { rd: a2, rs1: a2, imm: -1 }).i('bne', { rs1: a2, rs2: 0 }, 'pt0');
  // L1[0]: the code megapage; L1[1..4]: the L0 tables; root[2] -> L1
  p.li(a0, L1).li(t0, pte(0x8000_0000n, PTE_LEAF)).i('sd', { rs1: a0, rs2: t0, imm: 0 });
  for (let k = 0; k < DATA_PAGES / 512; k++)
    p.li(t0, pte(L0 + BigInt(k) * 4096n, PTE_PTR)).i('sd', { rs1: a0, rs2: t0, imm: 8 * (k + 1) });
  p.li(a0, ROOT).li(t0, pte(L1, PTE_PTR)).i('sd', { rs1: a0, rs2: t0, imm: 16 });
  p.li(t0, (8n << 60n) | (ROOT >> 12n)).i('csrrw', { rd: 0, rs1: t0, csr: 0x180 });
  // mstatus.MPP = S, mepc = body, mret
  p.li(t0, 1n << 11n).i('csrrs', { rd: 0, rs1: t0, csr: 0x300 });
  p.la(t0, 'body').i('csrrw', { rd: 0, rs1: t0, csr: 0x341 });
  p.i('mret');
  // M-mode trap handler: the body's ECALL ends the run
  p.align(4).label('mtrap').li(t0, 0x10_0000n).li(t1, 0x5555).i('sw', { rs1: t0, rs2: t1, imm: 0 });
  p.label('hang').i('jal', { rd: 0 }, 'hang');
  p.align(8).label('iters').bytes(new Uint8Array(8));
  p.label('body').la(t0, 'iters').i('ld', { rd: R.s11, rs1: t0, imm: 0 });
}

/** Integer ALU loop: 12 instructions per iteration, no memory accesses. */
function alu(p) {
  const { t0, t1, t2, t3, t4, t5, t6, s2, s3, s11 } = R;
  p.li(t0, 0x1234_5678).li(t1, 0x9abc_def0n).li(s3, 0);
  p.label('loop')
    .i('add', { rd: t0, rs1: t0, rs2: t1 }).i('xor', { rd: t1, rs1: t1, rs2: t0 })
    .i('slli', { rd: t2, rs1: t0, imm: 3 }).i('srli', { rd: t3, rs1: t1, imm: 5 })
    .i('sub', { rd: t4, rs1: t2, rs2: t3 }).i('or', { rd: t5, rs1: t4, rs2: t0 })
    .i('and', { rd: t6, rs1: t5, rs2: t1 }).i('addi', { rd: t1, rs1: t1, imm: 7 })
    .i('sltu', { rd: s2, rs1: t0, rs2: t6 }).i('add', { rd: s3, rs1: s3, rs2: s2 })
    .i('addi', { rd: s11, rs1: s11, imm: -1 }).i('bne', { rs1: s11, rs2: 0 }, 'loop');
  p.i('ecall');
}

/** Memory-heavy loop: loads and stores striding over 8 MiB of 4 KiB pages (TLB misses). */
function memory(p) {
  const { t0, t1, a1, a2, a3, s11 } = R;
  p.label('outer').li(a1, DATA).li(a2, DATA + BigInt(DATA_PAGES) * 4096n - 16n).li(a3, 520);
  p.label('inner')
    .i('ld', { rd: t0, rs1: a1, imm: 0 }).i('add', { rd: t0, rs1: t0, rs2: s11 })
    .i('sd', { rs1: a1, rs2: t0, imm: 0 }).i('ld', { rd: t1, rs1: a1, imm: 8 })
    .i('xor', { rd: t1, rs1: t1, rs2: t0 }).i('sd', { rs1: a1, rs2: t1, imm: 8 })
    .i('add', { rd: a1, rs1: a1, rs2: a3 }).i('bltu', { rs1: a1, rs2: a2 }, 'inner');
  p.i('addi', { rd: s11, rs1: s11, imm: -1 }).i('bne', { rs1: s11, rs2: 0 }, 'outer');
  p.i('ecall');
}

/** Branchy code: Collatz step counts for n = 1, 2, ... (data-dependent branches). */
function branchy(p) {
  const { t0, t1, t2, t3, s0, s2, s11 } = R;
  p.li(s0, 1).li(s2, 0).li(t3, 1);
  p.label('outer').i('addi', { rd: t0, rs1: s0, imm: 0 });
  p.label('step').i('andi', { rd: t1, rs1: t0, imm: 1 }).i('beq', { rs1: t1, rs2: 0 }, 'even');
  p.i('slli', { rd: t2, rs1: t0, imm: 1 }).i('add', { rd: t0, rs1: t0, rs2: t2 }).i('addi', { rd: t0, rs1: t0, imm: 1 });
  p.i('jal', { rd: 0 }, 'next');
  p.label('even').i('srli', { rd: t0, rs1: t0, imm: 1 });
  p.label('next').i('addi', { rd: s2, rs1: s2, imm: 1 }).i('bne', { rs1: t0, rs2: t3 }, 'step');
  p.i('addi', { rd: s0, rs1: s0, imm: 1 }).i('addi', { rd: s11, rs1: s11, imm: -1 }).i('bne', { rs1: s11, rs2: 0 }, 'outer');
  p.i('ecall');
}

export const WORKLOADS = {
  'integer ALU loop': alu,
  'memory loop (Sv39, 4 KiB pages)': memory,
  'branchy (Collatz)': branchy,
};

/** The image of a workload running `iterations` times (0 = practically forever). */
export function buildImage(name, iterations) {
  const p = new Program();
  prologue(p);
  WORKLOADS[name](p);
  const bytes = p.assemble();
  const off = Number(p.addr('iters') - 0x8000_0000n);
  new DataView(bytes.buffer).setBigUint64(off, iterations === 0 ? 2n ** 62n : BigInt(iterations), true);
  return bytes;
}

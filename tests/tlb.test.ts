// The TLB's generations (assembly/mmu/tlb.ts): entries are tagged by address space (V, VMID,
// ASID), flushes are O(1) generation bumps and the arrays are cleared when the 12-bit
// generation wraps. A stale entry must never survive a flush, before or after the wrap, and an
// address space's entries survive switches to other address spaces.
import { describe, it, expect } from 'vitest';
import { Core, Exit } from '../src/core.js';
import { Program, R, RAM } from './helpers/program.js';

const ROOT = RAM + 0x10000n;
const L1 = RAM + 0x11000n;
const L0 = RAM + 0x12000n;
const PAGE_A = RAM + 0x20000n;
const PAGE_B = RAM + 0x21000n;
const VA = 0x4000_0000n; // root[1] -> L1[0] -> L0[0]

const pte = (pa: bigint, flags: number) => ((pa >> 12n) << 10n) | BigInt(flags);

describe('TLB flushes', () => {
  // 4095: the generation cycles with that period, so without the clear on wrap the stale
  // entry would match again
  it.each([10, 4095])('after %i flushes a remapped page reads its new frame', async (flushes) => {
    // S-mode reads VA (mapped to PAGE_A); M-mode remaps VA to PAGE_B and flushes with
    // SFENCE.VMA x0, x0; S-mode reads VA again and must see PAGE_B.
    const p = new Program();
    const { t0, t1, a0, a1, a2, s1 } = R;
    p.li(t0, -1).i('csrrw', { rd: 0, rs1: t0, csr: 0x3b0 }).li(t0, 0x1f).i('csrrw', { rd: 0, rs1: t0, csr: 0x3a0 });
    p.la(t0, 'mtrap').i('csrrw', { rd: 0, rs1: t0, csr: 0x305 });
    p.li(t0, (8n << 60n) | (ROOT >> 12n)).i('csrrw', { rd: 0, rs1: t0, csr: 0x180 });
    p.li(s1, 0); // phase
    p.label('enter').li(t0, 1n << 11n).i('csrrs', { rd: 0, rs1: t0, csr: 0x300 });
    p.la(t0, 'sbody').i('csrrw', { rd: 0, rs1: t0, csr: 0x341 }).i('mret');
    // S-mode: read the word at VA into a0 (phase 0) or a1 (phase 1), then ecall
    p.label('sbody').li(t0, VA).i('ld', { rd: t1, rs1: t0, imm: 0 });
    p.i('bne', { rs1: s1, rs2: 0 }, 'second').i('addi', { rd: a0, rs1: t1, imm: 0 }).i('ecall');
    p.label('second').i('addi', { rd: a1, rs1: t1, imm: 0 }).i('ecall');
    // M-mode: after phase 0, remap VA to PAGE_B and flush `flushes` times
    p.align(4).label('mtrap').i('bne', { rs1: s1, rs2: 0 }, 'done');
    p.li(t0, L0).li(t1, pte(PAGE_B, 0xcf)).i('sd', { rs1: t0, rs2: t1, imm: 0 });
    p.li(a2, flushes);
    p.label('flush').i('sfence.vma', { rs1: 0, rs2: 0 }).i('addi', { rd: a2, rs1: a2, imm: -1 }).i('bne', { rs1: a2, rs2: 0 }, 'flush');
    p.li(s1, 1).i('jal', { rd: 0 }, 'enter');
    p.label('done').li(t0, 0x10_0000n).li(t1, 0x5555).i('sw', { rs1: t0, rs2: t1, imm: 0 });

    const core = await Core.create(1 << 20);
    core.writeRam(RAM, p.assemble());
    const w = (pa: bigint, v: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, v, true); core.writeRam(pa, b); };
    w(ROOT + 16n, pte(RAM, 0xcf)); // the code: a 1 GiB identity page
    w(ROOT + 8n, pte(L1, 1));
    w(L1, pte(L0, 1));
    w(L0, pte(PAGE_A, 0xcf));
    w(PAGE_A, 0xaaaan);
    w(PAGE_B, 0xbbbbn);
    core.reset(RAM);
    expect(core.run(1_000_000)).toBe(Exit.Poweroff);
    expect(core.x(R.a0)).toBe(0xaaaan);
    expect(core.x(R.a1)).toBe(0xbbbbn);
    expect(core.stats().tlbFlushes).toBeGreaterThanOrEqual(BigInt(flushes));
  });
});

describe('the fetch TLB', () => {
  // S-mode code at VA (a 4 KiB page: PAGE_A, later PAGE_B) and a second code page at VA + 4 KiB
  // (PAGE_C) call each other many times; then M-mode remaps VA and SFENCE.VMAs it.
  async function machine(hops: number) {
    const PAGE_C = RAM + 0x22000n;
    const p = new Program();
    const { t0, t1, a0, a2, s1 } = R;
    p.li(t0, -1).i('csrrw', { rd: 0, rs1: t0, csr: 0x3b0 }).li(t0, 0x1f).i('csrrw', { rd: 0, rs1: t0, csr: 0x3a0 });
    p.la(t0, 'mtrap').i('csrrw', { rd: 0, rs1: t0, csr: 0x305 });
    p.li(t0, (8n << 60n) | (ROOT >> 12n)).i('csrrw', { rd: 0, rs1: t0, csr: 0x180 });
    p.li(s1, 0).li(a2, hops);
    p.label('enter').li(t0, 1n << 11n).i('csrrs', { rd: 0, rs1: t0, csr: 0x300 });
    p.li(t0, VA).i('csrrw', { rd: 0, rs1: t0, csr: 0x341 }).i('mret');
    // M-mode: after the first visit remap VA to PAGE_B, SFENCE.VMA it, and go again
    p.align(4).label('mtrap').i('bne', { rs1: s1, rs2: 0 }, 'done');
    p.li(t0, L0).li(t1, pte(PAGE_B, 0xcf)).i('sd', { rs1: t0, rs2: t1, imm: 0 });
    p.li(t0, VA).i('sfence.vma', { rs1: t0, rs2: 0 });
    p.li(s1, 1).li(a2, 1).i('jal', { rd: 0 }, 'enter');
    p.label('done').li(t0, 0x10_0000n).li(t1, 0x5555).i('sw', { rs1: t0, rs2: t1, imm: 0 });
    const core = await Core.create(1 << 20);
    core.writeRam(RAM, p.assemble());
    // PAGE_A / PAGE_B: a0 = 1 / 2; then call VA + 4 KiB (returns), count a2 down, loop or ecall
    const page = (tag: number) => {
      const c = new Program(VA);
      c.label('top').li(a0, tag).li(t0, VA + 0x1000n).i('jalr', { rd: 1, rs1: t0, imm: 0 });
      c.i('addi', { rd: a2, rs1: a2, imm: -1 }).i('bne', { rs1: a2, rs2: 0 }, 'top').i('ecall');
      return c.assemble();
    };
    core.writeRam(PAGE_A, page(1));
    core.writeRam(PAGE_B, page(2));
    core.writeRam(PAGE_C, new Program(VA + 0x1000n).i('jalr', { rd: 0, rs1: 1, imm: 0 }).assemble());
    const w = (pa: bigint, v: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, v, true); core.writeRam(pa, b); };
    w(ROOT + 16n, pte(RAM, 0xcf));
    w(ROOT + 8n, pte(L1, 1));
    w(L1, pte(L0, 1));
    w(L0, pte(PAGE_A, 0xcb)); // R X (no W), A D
    w(L0 + 8n, pte(PAGE_C, 0xcb));
    core.reset(RAM);
    expect(core.run(1_000_000)).toBe(Exit.Poweroff);
    return core;
  }

  it('fetches from the new frame after a remap and SFENCE.VMA', async () => {
    expect((await machine(3)).x(R.a0)).toBe(2n);
  });

  it('crossing between two code pages does not walk the page table each time', async () => {
    const few = (await machine(10)).stats().pageWalks;
    const many = (await machine(1000)).stats().pageWalks;
    expect(many).toBe(few);
  });
});

// Two address spaces on one direct-mapped TLB (its index is the VPN's low bits, so the two
// are laid out not to share a slot): ASID 1 (ROOT) runs the S-mode body where it lies (a 1 GiB
// identity page) and reads DATA1 -> PAGE_A; ASID 2 (ROOT2) runs it through CODE2 (a 4 KiB
// alias) and reads DATA2 -> PAGE_B. The body adds the word to a0 and ecalls; M-mode switches
// to the other address space (satp, entry and data address: s1/s3/s5 <-> s2/s4/s6), runs the
// `between` code and returns, `rounds` times. With 'virt', ASID 2 is a guest's instead: ROOT2
// is vsatp's (hgatp Bare) and M-mode switches between HS-mode and VS-mode (mstatus.MPV). With
// 'vmid', both are guests in VS-mode on one identity G-stage (Sv39x4) under VMIDs 1 and 2:
// M-mode switches hgatp's VMID and vsatp (ROOT, ROOT2).
const ROOT2 = RAM + 0x13000n;
const L1B = RAM + 0x14000n;
const L0B = RAM + 0x15000n;
const PAGE_C = RAM + 0x22000n;
const DATA1 = VA; // TLB slot 0
const DATA2 = VA + 0x1000n; // slot 1
const CODE2 = VA + 0x5000n; // slot 5; the body's own page is slot 1 (RAM + 0x1000)
const satp = (asid: number, root: bigint) => (8n << 60n) | (BigInt(asid) << 44n) | (root >> 12n);

const GROOT = RAM + 0x30000n; // 16 KiB aligned
const hgatp = (vmid: number) => (8n << 60n) | (BigInt(vmid) << 44n) | (GROOT >> 12n);

async function twoSpaces(rounds: number, between?: (p: Program) => void, mode: 'asid' | 'virt' | 'vmid' = 'asid') {
  const virt = mode === 'virt';
  const p = new Program();
  const { t0, t1, a0, a2, s1, s2, s3, s4, s5, s6 } = R;
  const swap = (x: number, y: number) => p.i('addi', { rd: t0, rs1: x, imm: 0 }).i('addi', { rd: x, rs1: y, imm: 0 }).i('addi', { rd: y, rs1: t0, imm: 0 });
  p.li(t0, -1).i('csrrw', { rd: 0, rs1: t0, csr: 0x3b0 }).li(t0, 0x1f).i('csrrw', { rd: 0, rs1: t0, csr: 0x3a0 });
  p.la(t0, 'mtrap').i('csrrw', { rd: 0, rs1: t0, csr: 0x305 });
  p.la(s3, 'sbody').li(s4, CODE2).li(s5, DATA1).li(s6, DATA2).li(a0, 0).li(a2, rounds);
  if (virt) {
    // s1/s2: mstatus.MPV for HS-mode (satp, ASID 1) and VS-mode (vsatp, ASID 2)
    p.li(t0, satp(1, ROOT)).i('csrrw', { rd: 0, rs1: t0, csr: 0x180 });
    p.li(t0, satp(2, ROOT2)).i('csrrw', { rd: 0, rs1: t0, csr: 0x280 });
    p.li(s1, 0).li(s2, 1n << 39n);
  } else if (mode === 'vmid') {
    // s1/s2: vsatp; s7/s8: hgatp; always VS-mode
    p.li(s1, satp(1, ROOT)).li(s2, satp(2, ROOT2)).li(R.s7, hgatp(1)).li(R.s8, hgatp(2));
    p.i('csrrw', { rd: 0, rs1: s1, csr: 0x280 }).i('csrrw', { rd: 0, rs1: R.s7, csr: 0x680 });
    p.li(t0, 1n << 39n).i('csrrs', { rd: 0, rs1: t0, csr: 0x300 });
  } else p.li(s1, satp(1, ROOT)).li(s2, satp(2, ROOT2)).i('csrrw', { rd: 0, rs1: s1, csr: 0x180 });
  p.label('enter').li(t0, 1n << 11n).i('csrrs', { rd: 0, rs1: t0, csr: 0x300 });
  if (virt) p.li(t0, 1n << 39n).i('csrrc', { rd: 0, rs1: t0, csr: 0x300 }).i('csrrs', { rd: 0, rs1: s1, csr: 0x300 });
  p.i('csrrw', { rd: 0, rs1: s3, csr: 0x341 }).i('mret');
  // M-mode: the other address space, count down
  p.align(4).label('mtrap').i('addi', { rd: a2, rs1: a2, imm: -1 }).i('beq', { rs1: a2, rs2: 0 }, 'done');
  swap(s1, s2); swap(s3, s4); swap(s5, s6);
  if (mode === 'asid') p.i('csrrw', { rd: 0, rs1: s1, csr: 0x180 });
  if (mode === 'vmid') {
    swap(R.s7, R.s8);
    p.i('csrrw', { rd: 0, rs1: s1, csr: 0x280 }).i('csrrw', { rd: 0, rs1: R.s7, csr: 0x680 });
    p.li(t0, 1n << 39n).i('csrrs', { rd: 0, rs1: t0, csr: 0x300 }); // MPV: back into VS-mode
  }
  between?.(p);
  p.i('jal', { rd: 0 }, 'enter');
  p.label('done').li(t0, 0x10_0000n).li(t1, 0x5555).i('sw', { rs1: t0, rs2: t1, imm: 0 });
  p.align(4096).label('sbody').i('ld', { rd: t1, rs1: s5, imm: 0 }).i('add', { rd: a0, rs1: a0, rs2: t1 }).i('ecall');
  const code = p.assemble();
  const core = await Core.create(1 << 20);
  core.writeRam(RAM, code);
  expect(code.length).toBeLessThan(0x2000); // the body lies in RAM's second page
  const w = (pa: bigint, v: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, v, true); core.writeRam(pa, b); };
  for (const [root, l1, l0] of [[ROOT, L1, L0], [ROOT2, L1B, L0B]]) {
    w(root + 16n, pte(RAM, 0xcf)); // the code: a 1 GiB identity page
    w(root + 8n, pte(l1, 1));
    w(l1, pte(l0, 1));
  }
  w(L0, pte(PAGE_A, 0xcf)); // DATA1 in ASID 1
  w(L0B + 8n, pte(PAGE_B, 0xcf)); // DATA2 in ASID 2
  w(L0B + 5n * 8n, pte(RAM + 0x1000n, 0xcb)); // CODE2 in ASID 2: R X, the body's page
  w(PAGE_A, 1n);
  w(PAGE_B, 0x100n);
  w(PAGE_C, 0x1_0000n);
  w(GROOT + 16n, pte(RAM, 0xdf)); // G-stage: guest-physical RAM identity (a 1 GiB leaf, U set)
  core.reset(RAM);
  expect(core.run(10_000_000)).toBe(Exit.Poweroff);
  return core;
}

describe('address-space tags', () => {
  // each address space walks for its code page and its data page once, whatever the rounds
  it.each([
    ['two ASIDs', 'asid'],
    ['HS-mode and a guest in VS-mode (V)', 'virt'],
    ['two guests (VMIDs 1 and 2, two-stage)', 'vmid'],
  ] as const)('switching between %s keeps both address spaces in the TLB', async (_, mode) => {
    const few = await twoSpaces(4, undefined, mode);
    const many = await twoSpaces(400, undefined, mode);
    // rounds alternate the first space (reads 1) and the second (reads 0x100)
    expect(few.x(R.a0)).toBe(2n * 1n + 2n * 0x100n);
    expect(many.x(R.a0)).toBe(200n * 1n + 200n * 0x100n);
    expect(few.stats().pageWalks).toBe(4n);
    expect(many.stats().pageWalks).toBe(few.stats().pageWalks);
    expect(many.stats().tlbFlushes).toBe(few.stats().tlbFlushes);
    if (mode === 'vmid') expect(few.stats().walks2d).toBe(4n);
  });

  it('SFENCE.VMA x0, asid forgets that address space only', async () => {
    // after each switch M-mode remaps ASID 1's DATA1 to PAGE_C and fences ASID 1 (whichever is current)
    const fenced = await twoSpaces(6, (p) => {
      p.li(R.t0, L0).li(R.t1, pte(PAGE_C, 0xcf)).i('sd', { rs1: R.t0, rs2: R.t1, imm: 0 });
      p.li(R.t0, 1).i('sfence.vma', { rs1: 0, rs2: R.t0 });
    });
    // round 1 (ASID 1) reads PAGE_A; rounds 3 and 5 (ASID 1, fenced) the new frame; ASID 2
    // (rounds 2, 4, 6) PAGE_B
    expect(fenced.x(R.a0)).toBe(1n + 3n * 0x100n + 2n * 0x1_0000n);
    // 4 walks as in the plain run, and ASID 1's code and data pages again in rounds 3 and 5
    expect(fenced.stats().pageWalks).toBe(8n);
  });

  it('an ASID reused with other tables finds none of the old tables\' entries', async () => {
    // after round 1 M-mode maps DATA2 (-> PAGE_C) and CODE2 in ROOT too, and makes ASID 2's
    // next satp point at ROOT instead of ROOT2, without a fence. Round 2 runs ASID 2 on ROOT2
    // (DATA2 -> PAGE_B); round 3 ASID 2 on ROOT: the TLB keeps the tables with the ASID's
    // generation, so it must not find round 2's entry for DATA2.
    const core = await twoSpaces(3, (p) => {
      p.li(R.t0, L0).li(R.t1, pte(PAGE_C, 0xcf)).i('sd', { rs1: R.t0, rs2: R.t1, imm: 8 });
      p.li(R.t1, pte(RAM + 0x1000n, 0xcb)).i('sd', { rs1: R.t0, rs2: R.t1, imm: 40 });
      p.li(R.s2, satp(2, ROOT)).li(R.s4, CODE2).li(R.s6, DATA2);
    });
    expect(core.x(R.a0)).toBe(1n + 0x100n + 0x1_0000n);
  });
});

describe('address-space tags (VMID)', () => {
  it('HFENCE.GVMA forgets the guests\' translations', async () => {
    // after each switch M-mode remaps guest 1's DATA1 to PAGE_C in its VS table and fences
    // with HFENCE.GVMA (which covers the VS-stage too: H chapter, HFENCE.GVMA)
    const fenced = await twoSpaces(6, (p) => {
      p.li(R.t0, L0).li(R.t1, pte(PAGE_C, 0xcf)).i('sd', { rs1: R.t0, rs2: R.t1, imm: 0 });
      p.i('hfence.gvma', { rs1: 0, rs2: 0 });
    }, 'vmid');
    expect(fenced.x(R.a0)).toBe(1n + 3n * 0x100n + 2n * 0x1_0000n);
  });
});

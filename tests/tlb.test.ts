// The TLB's flush generation (assembly/mmu/tlb.ts): flushes are O(1) generation bumps and
// the arrays are cleared when the 12-bit generation wraps. A stale entry must never survive
// a flush, before or after the wrap.
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
    // S-mode reads VA (mapped to PAGE_A); M-mode remaps VA to PAGE_B and flushes by satp
    // writes; S-mode reads VA again and must see PAGE_B.
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
    // M-mode: after phase 0, remap VA to PAGE_B and flush `flushes` times via satp writes
    p.align(4).label('mtrap').i('bne', { rs1: s1, rs2: 0 }, 'done');
    p.li(t0, L0).li(t1, pte(PAGE_B, 0xcf)).i('sd', { rs1: t0, rs2: t1, imm: 0 });
    p.li(a2, flushes).li(t0, (8n << 60n) | (ROOT >> 12n));
    p.label('flush').i('csrrw', { rd: 0, rs1: t0, csr: 0x180 }).i('addi', { rd: a2, rs1: a2, imm: -1 }).i('bne', { rs1: a2, rs2: 0 }, 'flush');
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

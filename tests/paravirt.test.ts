// The paravirt machine's VMM (assembly/vmm/paravirt.ts, docs/paravirt.md): small hand-written
// guest kernels that make hypercalls, hostile ones included, run on a bare core; then the
// teaching kernel's paravirtual build on the paravirt machine.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { Core, Exit } from '../src/core.js';
import { Program, R, RAM } from './helpers/program.js';
import { createMachine, ConfigError } from '../src/index.js';
import { LoadError } from '../src/loader/elf.js';
import { makeElf } from './helpers/elf.js';

const MiB = 1n << 20n;
const GUEST = 4n * MiB; // the guest's RAM
const VMM = RAM + GUEST; // the VMM's RAM above it (its boot page table)
const POOL = RAM + 2n * MiB; // the page-table pool the guests register: the guest's second 2 MiB
const DATA = RAM + 0x10000n; // results of the hypercalls (16 bytes each)
const SHARED = RAM + 0x18000n; // the shared page
const FRAME = RAM + 0x19000n; // a process's trap frame
const REQS = RAM + 0x20000n; // PV_MMU_UPDATE batches, one page each

const EID = 0x0a00_7776n;
const FN = {
  VERSION: 0, SET_SHARED: 1, SET_TRAP_VECTOR: 2, CONSOLE_WRITE: 3, SHUTDOWN: 4, SET_TIMER: 5, MMU_INIT: 6,
  MMU_UPDATE: 7, SET_ROOT: 8, RETURN_TO_USER: 9, BLK_INFO: 10, BLK_SETUP: 11, BLK_NOTIFY: 12, NOP: 13,
} as const;
const MMU = { PTE: 0n, PIN: 1n, UNPIN: 2n, CLEAR: 3n, FLUSH_PAGE: 4n, FLUSH_ALL: 5n } as const;
const ERR = { NOT_SUPPORTED: -2n, INVALID_PARAM: -3n, DENIED: -4n, INVALID_ADDRESS: -5n, ALREADY_AVAILABLE: -6n } as const;
const PTE = { V: 1n, R: 2n, W: 4n, X: 8n, U: 16n, G: 32n, A: 64n, D: 128n } as const;
const LEAF = PTE.V | PTE.R | PTE.W | PTE.X | PTE.U | PTE.A | PTE.D;
const pte = (pa: bigint, flags: bigint) => ((pa >> 12n) << 10n) | flags;
const u64 = (v: bigint) => BigInt.asUintN(64, v);
// the shared page's fields (struct pv_shared)
const SH = { scause: 0n, stval: 8n, sepc: 16n, a0: 24n } as const;

/** A guest kernel under construction: hypercalls whose results (a0, a1) are recorded in order. */
class Guest {
  readonly p = new Program(RAM);
  private calls = 0;
  private batches: [bigint, bigint][][] = [];
  private readonly pokes: [bigint, Uint8Array][] = [];

  constructor() {
    this.p.li(R.s1, DATA);
  }

  /** ECALL with PV_EID: a0 and a1 are stored at DATA + 16 * (its index). */
  hc(fn: number, a0: bigint = 0n, a1: bigint = 0n, eid = EID): this {
    this.p.li(R.a7, eid).li(R.a6, fn).li(R.a0, a0).li(R.a1, a1).i('ecall');
    this.p.i('sd', { rs1: R.s1, rs2: R.a0, imm: 0 }).i('sd', { rs1: R.s1, rs2: R.a1, imm: 8 }).i('addi', { rd: R.s1, rs1: R.s1, imm: 16 });
    this.calls++;
    return this;
  }

  /** One PV_MMU_UPDATE with these (address | op, value) requests. */
  mmu(reqs: [bigint, bigint][]): this {
    const at = REQS + BigInt(this.batches.length) * 0x1000n;
    this.batches.push(reqs);
    return this.hc(FN.MMU_UPDATE, at, BigInt(reqs.length));
  }

  /** Store 8 bytes (or these bytes) at physical `pa` before the run. */
  poke(pa: bigint, v: bigint | Uint8Array): this {
    if (typeof v === 'bigint') {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, u64(v), true);
      v = b;
    }
    this.pokes.push([pa, v]);
    return this;
  }

  /** Power off (a hypercall too). */
  end(): this {
    return this.hc(FN.SHUTDOWN);
  }

  async run(opts: { disk?: bigint } = {}) {
    const core = await Core.create(GUEST + 2n * MiB);
    core.writeRam(RAM, this.p.assemble());
    const w = (pa: bigint, v: bigint) => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, u64(v), true);
      core.writeRam(pa, b);
    };
    this.batches.forEach((reqs, k) => reqs.forEach(([ptr, val], i) => {
      w(REQS + BigInt(k) * 0x1000n + BigInt(i) * 16n, ptr);
      w(REQS + BigInt(k) * 0x1000n + BigInt(i) * 16n + 8n, val);
    }));
    for (const [pa, b] of this.pokes) core.writeRam(pa, b);
    core.bootParavirt(RAM, 0n, GUEST, opts.disk ?? 0n);
    const exit = core.run(1_000_000);
    const read = (pa: bigint) => new DataView(core.ram(pa, 8).slice().buffer).getBigUint64(0, true);
    const signed = (pa: bigint) => BigInt.asIntN(64, read(pa));
    const results = Array.from({ length: this.calls }, (_, i) => ({ a0: signed(DATA + 16n * BigInt(i)), a1: signed(DATA + 16n * BigInt(i) + 8n) }));
    return { core, exit, results, read, stats: core.stats() };
  }
}

describe('the paravirt VMM: hypercalls', () => {
  it('starts the guest kernel deprivileged, in U-mode, on its boot page table; answers version and nop', async () => {
    const g = new Guest().hc(FN.VERSION).hc(FN.NOP).end();
    const r = await g.run();
    expect(Exit[r.exit]).toBe('Poweroff');
    expect(r.core.priv).toBe(0);
    expect(u64(r.core.csr(0x180)) >> 60n).toBe(8n); // satp: Sv39
    expect((u64(r.core.csr(0x180)) & ((1n << 44n) - 1n)) << 12n).toBe(VMM); // the boot table is the VMM's
    expect(r.results.slice(0, 2)).toEqual([{ a0: 0n, a1: 1n }, { a0: 0n, a1: 0n }]);
    expect(r.stats.pvHypercalls).toBe(3n);
    expect(r.stats.exceptionsByCause[8]).toBe(3n); // each one an ECALL from U-mode
  });

  it('answers other extensions and unknown functions with SBI_ERR_NOT_SUPPORTED', async () => {
    const r = await new Guest().hc(0, 0n, 0n, 0x10n).hc(99).hc(FN.BLK_INFO).end().run();
    expect(r.results.slice(0, 3).map((x) => x.a0)).toEqual([ERR.NOT_SUPPORTED, ERR.NOT_SUPPORTED, ERR.NOT_SUPPORTED]);
    expect(r.stats.pvRefused).toBe(0n);
  });

  it('checks the addresses it is given: shared page, console buffer, block ring', async () => {
    const r = await new Guest()
      .hc(FN.SET_SHARED, VMM) // the VMM's memory
      .hc(FN.SET_SHARED, SHARED + 8n) // not page-aligned
      .hc(FN.SET_SHARED, SHARED)
      .hc(FN.SET_SHARED, SHARED) // once only
      .hc(FN.CONSOLE_WRITE, 16n, VMM - 8n) // runs past the guest's RAM
      .hc(FN.CONSOLE_WRITE, 0n, RAM)
      .hc(FN.BLK_SETUP, 0x1000_1000n) // a device, not RAM
      .hc(FN.BLK_NOTIFY) // no ring
      .end().run({ disk: 8n });
    expect(r.results.slice(0, 8).map((x) => x.a0)).toEqual([
      ERR.INVALID_ADDRESS, ERR.INVALID_ADDRESS, 0n, ERR.ALREADY_AVAILABLE, ERR.INVALID_ADDRESS, 0n, ERR.INVALID_ADDRESS, ERR.INVALID_PARAM,
    ]);
    expect(r.stats.pvRefused).toBe(6n);
  });

  it('registers the page-table pool once, in the guest\'s own RAM, 2 MiB-aligned', async () => {
    const r = await new Guest()
      .mmu([[POOL | MMU.CLEAR, 0n]]) // before the pool exists
      .hc(FN.MMU_INIT, VMM, 2n * MiB) // the VMM's memory
      .hc(FN.MMU_INIT, POOL + 0x1000n, 2n * MiB) // misaligned
      .hc(FN.MMU_INIT, POOL, 8n * MiB) // too big
      .hc(FN.MMU_INIT, POOL, 2n * MiB)
      .hc(FN.MMU_INIT, POOL, 2n * MiB)
      .end().run();
    expect(r.results.slice(0, 6).map((x) => x.a0)).toEqual([
      ERR.INVALID_PARAM, ERR.DENIED, ERR.INVALID_PARAM, ERR.INVALID_PARAM, 0n, ERR.ALREADY_AVAILABLE,
    ]);
    // the boot table's 2 MiB page over the pool lost W; the one below kept it
    expect(r.read(VMM + 0x1000n + 8n) & PTE.W).toBe(0n);
    expect(r.read(VMM + 0x1000n) & PTE.W).toBe(PTE.W);
  });
});

describe('the paravirt VMM: page-table updates are validated (a hostile guest)', () => {
  const ROOT = POOL;
  const L1 = POOL + 0x1000n;
  const L0 = POOL + 0x2000n;
  const l1 = (i: number) => L1 + BigInt(i) * 8n;
  /** pool registered; root pinned; root[2] -> L1 (so L1 is a level-1 table) */
  const tables = () => new Guest()
    .hc(FN.MMU_INIT, POOL, 2n * MiB)
    .mmu([[ROOT | MMU.CLEAR, 0n], [ROOT | MMU.PIN, 0n], [L1 | MMU.CLEAR, 0n], [ROOT + 16n, pte(L1, PTE.V)]]);

  it('applies good requests and refuses every mapping of memory the guest does not own', async () => {
    const cases: [string, [bigint, bigint], bigint][] = [
      ['2 MiB of the guest\'s RAM', [l1(0), pte(RAM, LEAF)], 0n],
      ['the VMM\'s RAM', [l1(1), pte(VMM, LEAF)], ERR.DENIED],
      ['a device (CLINT)', [l1(2), pte(0x0200_0000n, LEAF)], ERR.DENIED],
      ['the page-table pool, read-only', [l1(3), pte(POOL, LEAF & ~PTE.W)], 0n],
      ['the page-table pool, writable', [l1(4), pte(POOL, LEAF)], ERR.DENIED],
      ['a global mapping', [l1(5), pte(RAM, LEAF | PTE.G)], ERR.INVALID_PARAM],
      ['a misaligned 2 MiB page', [l1(6), pte(RAM + 0x1000n, LEAF)], ERR.INVALID_PARAM],
      ['W without R (reserved)', [l1(7), pte(RAM, PTE.V | PTE.W | PTE.U)], ERR.INVALID_PARAM],
      ['reserved PTE bits', [l1(8), pte(RAM, LEAF) | (1n << 54n)], ERR.INVALID_PARAM],
      ['a table outside the pool', [l1(9), pte(RAM + 0x30000n, PTE.V)], ERR.DENIED],
      ['a 1 GiB page (more than the guest has)', [ROOT + 24n, pte(0xc000_0000n, LEAF)], ERR.DENIED],
      ['a PTE outside the pool', [DATA + 0x800n, pte(RAM, LEAF)], ERR.DENIED],
      ['a PTE in a pool page that is no table', [POOL + 0x5000n, pte(RAM, LEAF)], ERR.INVALID_PARAM],
    ];
    const g = tables();
    for (const [, req] of cases) g.mmu([req]);
    const r = await g.end().run();
    expect(r.results[1]).toEqual({ a0: 0n, a1: 4n }); // the set-up batch
    const got = r.results.slice(2, 2 + cases.length).map((x) => x.a0);
    expect(got).toEqual(cases.map(([, , want]) => want));
    // what was refused was not written
    for (const [what, [ptr], want] of cases) if (want !== 0n) expect(r.read(ptr), what).toBe(0n);
    expect(r.stats.pvRefused).toBe(BigInt(cases.filter(([, , w]) => w !== 0n).length));
    expect(r.stats.pvMmuOps).toBe(4n + 2n);
  });

  it('applies a batch in order up to the first refused request, and says which', async () => {
    const r = await tables().mmu([[l1(0), pte(RAM, LEAF)], [l1(1), pte(VMM, LEAF)], [l1(2), pte(RAM, LEAF)]]).end().run();
    expect(r.results[2]).toEqual({ a0: ERR.DENIED, a1: 1n });
    expect(r.read(l1(0))).toBe(pte(RAM, LEAF));
    expect(r.read(l1(1))).toBe(0n);
    expect(r.read(l1(2))).toBe(0n);
  });

  it('gives each pool page one level while it is referenced, and links only empty pages', async () => {
    const r = await tables()
      .poke(POOL + 0x3000n + 0x40n, pte(VMM, LEAF)) // a page the guest filled itself (before the pool existed)
      .mmu([[L0 | MMU.CLEAR, 0n], [l1(0), pte(L0, PTE.V)]]) // L0 is now a level-0 table
      .mmu([[L0 | MMU.PIN, 0n]]) // ... so it cannot be a root too
      .mmu([[l1(1), pte(L1, PTE.V)]]) // nor can L1 be linked as a level-0 table
      .mmu([[L0 | MMU.CLEAR, 0n]]) // nor cleared while in use
      .mmu([[L0 + 8n, pte(VMM, LEAF)]]) // a 4 KiB page of the VMM
      .mmu([[L0 + 16n, pte(RAM + GUEST - 0x1000n, LEAF & ~PTE.W)]]) // the guest's last 4 KiB (in the pool: read-only)
      .mmu([[l1(2), pte(POOL + 0x3000n, PTE.V)]]) // a page that is not empty
      .mmu([[POOL + 0x3000n | MMU.PIN, 0n]])
      .mmu([[POOL + 0x3000n | MMU.CLEAR, 0n], [POOL + 0x3000n | MMU.PIN, 0n], [POOL + 0x3000n | MMU.UNPIN, 0n]])
      .mmu([[POOL + 0x3000n | MMU.UNPIN, 0n]]) // not pinned any more
      .end().run();
    expect(r.results.slice(2).map((x) => x.a0)).toEqual([
      0n, ERR.INVALID_PARAM, ERR.INVALID_PARAM, ERR.INVALID_PARAM, ERR.DENIED, 0n, ERR.INVALID_PARAM, ERR.INVALID_PARAM, 0n, ERR.INVALID_PARAM, 0n,
    ]);
  });

  it('releases the tables a root links when the root is unpinned, so their pages can be reused', async () => {
    const r = await tables()
      .mmu([[L0 | MMU.CLEAR, 0n], [l1(0), pte(L0, PTE.V)], [L0, pte(RAM, LEAF)]])
      .mmu([[ROOT | MMU.UNPIN, 0n]])
      // every page was released: L0 may be cleared and pinned as a root now
      .mmu([[L0 | MMU.CLEAR, 0n], [L0 | MMU.PIN, 0n]])
      .end().run();
    expect(r.results.slice(2, 5)).toEqual([{ a0: 0n, a1: 3n }, { a0: 0n, a1: 1n }, { a0: 0n, a1: 2n }]);
    expect(r.read(L0)).toBe(0n);
  });

  it('makes the pool read-only to the guest: a store to it is a page fault reflected to the guest', async () => {
    const g = new Guest().hc(FN.SET_SHARED, SHARED);
    g.p.la(R.a0, 'vector').li(R.a7, EID).li(R.a6, FN.SET_TRAP_VECTOR).i('ecall');
    g.hc(FN.MMU_INIT, POOL, 2n * MiB);
    g.p.li(R.t1, POOL + 0x100n).li(R.t2, 0x77).li(R.a0, 0x4242).i('sd', { rs1: R.t1, rs2: R.t2, imm: 0 });
    g.hc(FN.NOP); // not reached
    g.p.label('vector').li(R.s2, 1); // s2 = 1: the vector ran
    g.end();
    const r = await g.run();
    expect(Exit[r.exit]).toBe('Poweroff');
    expect(r.core.x(R.s2)).toBe(1n);
    expect(r.read(SHARED + SH.scause)).toBe(15n); // store page fault
    expect(r.read(SHARED + SH.stval)).toBe(POOL + 0x100n);
    expect(r.read(SHARED + SH.a0)).toBe(0x4242n); // the kernel's a0, kept for it (the vector found 0)
    expect(r.read(POOL + 0x100n)).toBe(0n);
    expect(r.stats.pvReflected).toBe(1n);
  });
});

describe('the paravirt VMM: privileged instructions and traps', () => {
  const privileged: [string, (p: Program) => void][] = [
    ['csrr sstatus', (p) => p.i('csrrs', { rd: R.t0, rs1: 0, csr: 0x100 })],
    ['csrw satp', (p) => p.i('csrrw', { rd: 0, rs1: R.t0, csr: 0x180 })],
    ['sret', (p) => p.i('sret')],
    ['sfence.vma', (p) => p.i('sfence.vma', { rs1: 0, rs2: 0 })],
    ['wfi', (p) => p.i('wfi')],
  ];

  it.each(privileged)('%s in the guest kernel traps; the VMM counts it and reflects an illegal-instruction fault', async (_, insn) => {
    const g = new Guest().hc(FN.SET_SHARED, SHARED);
    g.p.la(R.a0, 'vector').li(R.a7, EID).li(R.a6, FN.SET_TRAP_VECTOR).i('ecall');
    g.p.label('priv');
    insn(g.p);
    g.p.label('vector').i('addi', { rd: R.s3, rs1: R.a0, imm: 0 }); // a0 at the vector: 0 = a trap in the kernel
    g.end();
    const r = await g.run();
    expect(Exit[r.exit]).toBe('Poweroff');
    expect(r.read(SHARED + SH.scause)).toBe(2n);
    expect(r.read(SHARED + SH.sepc)).toBe(g.p.addr('priv'));
    expect(r.core.x(R.s3)).toBe(0n);
    expect(r.stats.pvPrivFaults).toBe(1n);
  });

  it('ends the run with a clear exit when the guest traps before it registered a vector', async () => {
    const g = new Guest();
    g.p.i('csrrs', { rd: R.t0, rs1: 0, csr: 0x100 });
    const r = await g.end().run();
    expect(Exit[r.exit]).toBe('PvCrash');
    expect(r.core.exitValue).toBe(2);
  });

  it('ends the run when the kernel faults at its own trap vector (a double fault), instead of looping', async () => {
    const g = new Guest().hc(FN.SET_SHARED, SHARED).hc(FN.SET_TRAP_VECTOR, 0x4000_0000n); // nothing mapped there
    g.p.i('ebreak');
    const r = await g.end().run();
    expect(Exit[r.exit]).toBe('PvCrash');
    expect(r.core.exitValue).toBe(0x4000_0000 | 12); // an instruction page fault, at the vector
    expect(r.core.pc).toBe(0x4000_0000n);
    expect(r.stats.pvReflected).toBe(1n); // the breakpoint was delivered; its delivery faulted
  });

  it('runs a process: its ECALL is a system call for the kernel, never a hypercall; registers go to its frame', async () => {
    const ROOT = POOL, KL1 = POOL + 0x1000n, UROOT = POOL + 0x2000n, UL1 = POOL + 0x3000n, UL0 = POOL + 0x4000n;
    const UCODE = RAM + 0x30000n; // the process's code page
    const UVA = 0x1_0000_0000n; // where it runs (4 GiB)
    const g = new Guest().hc(FN.SET_SHARED, SHARED);
    g.p.la(R.a0, 'vector').li(R.a7, EID).li(R.a6, FN.SET_TRAP_VECTOR).i('ecall');
    g.hc(FN.MMU_INIT, POOL, 2n * MiB)
      .mmu([
        // the kernel's table: guest RAM in 2 MiB pages, the pool read-only
        [ROOT | MMU.CLEAR, 0n], [ROOT | MMU.PIN, 0n], [KL1 | MMU.CLEAR, 0n], [ROOT + 16n, pte(KL1, PTE.V)],
        [KL1, pte(RAM, LEAF)], [KL1 + 8n, pte(POOL, PTE.V | PTE.R | PTE.U | PTE.A)],
        // the process's: one code page at 4 GiB
        [UROOT | MMU.CLEAR, 0n], [UROOT | MMU.PIN, 0n], [UL1 | MMU.CLEAR, 0n], [UROOT + 32n, pte(UL1, PTE.V)],
        [UL0 | MMU.CLEAR, 0n], [UL1, pte(UL0, PTE.V)], [UL0, pte(UCODE, PTE.V | PTE.R | PTE.X | PTE.U | PTE.A)],
      ])
      .hc(FN.SET_ROOT, 0n, ROOT)
      .hc(FN.SET_ROOT, 1n, UROOT)
      .hc(FN.RETURN_TO_USER, POOL) // a frame in the pool
      .hc(FN.RETURN_TO_USER, FRAME + 4n) // misaligned
      .poke(FRAME + 32n * 8n, UVA) // the frame's pc
      .poke(FRAME + BigInt(R.s4) * 8n, 0x1234n);
    g.p.li(R.a0, FRAME).li(R.a7, EID).li(R.a6, FN.RETURN_TO_USER).i('ecall');
    g.p.li(R.s5, 0xbad); // not reached
    g.p.label('vector').i('addi', { rd: R.s3, rs1: R.a0, imm: 0 });
    g.end();
    // the process: a hypercall-shaped ECALL
    const u = new Program(UVA).li(R.a7, EID).li(R.a6, FN.SHUTDOWN).li(R.t3, 0x5678).i('ecall').label('after');
    g.poke(UCODE, u.assemble());
    const r = await g.run();
    expect(Exit[r.exit]).toBe('Poweroff'); // by the kernel's SHUTDOWN, not the process's
    expect(r.results.slice(2, 7).map((x) => x.a0)).toEqual([0n, 0n, 0n, ERR.INVALID_ADDRESS, ERR.INVALID_ADDRESS]);
    expect(r.core.x(R.s3)).toBe(FRAME); // a0 at the vector: the frame
    expect(r.read(SHARED + SH.scause)).toBe(8n); // an ECALL from U-mode, for the kernel
    expect(r.read(SHARED + SH.sepc)).toBe(u.addr('after') - 4n);
    expect(r.read(FRAME + BigInt(R.s4) * 8n)).toBe(0x1234n); // loaded from the frame and saved back
    expect(r.read(FRAME + BigInt(R.t3) * 8n)).toBe(0x5678n);
    expect(r.read(FRAME + BigInt(R.a7) * 8n)).toBe(EID);
    expect(r.read(FRAME + 32n * 8n)).toBe(u.addr('after') - 4n);
    expect(r.core.x(R.s5)).toBe(0n);
    // back on the kernel's table
    expect((u64(r.core.csr(0x180)) & ((1n << 44n) - 1n)) << 12n).toBe(ROOT);
    expect(r.stats.pvReflected).toBe(1n);
  });
});

describe('the paravirt machine and the teaching kernel\'s paravirtual build', () => {
  const pv = readFileSync(new URL('../guests/kernel/prebuilt/kernel-pv.elf', import.meta.url));
  const native = readFileSync(new URL('../guests/kernel/prebuilt/kernel-native.elf', import.meta.url));

  async function boot(type: 'native' | 'paravirt', kernel: Uint8Array, append: string, drives = true) {
    let out = '';
    const m = await createMachine({
      type, memory: '64M', kernel, append, idle: 'skip', jit: false,
      drives: drives ? [{ data: new Uint8Array(64 * 512).fill(0x5a), readOnly: true }] : [],
      onConsole: (b) => (out += Buffer.from(b).toString()),
    });
    const r = await m.run();
    return { r, out, m };
  }

  it('runs every nanobenchmark with no trap-and-emulate event: the privileged operations are hypercalls', async () => {
    const { r, out, m } = await boot('paravirt', pv, 'iters=50');
    expect(r.reason, out).toBe('poweroff');
    expect(r.status).toBe(0);
    expect(out).toContain('console hypercall');
    expect(out).toContain('paravirtual block device, 64 sectors');
    const names = [...out.matchAll(/^wvbench name=(\w+) ops=(\d+)/gm)].map((x) => x[1]);
    expect(names).toEqual(['null_syscall', 'page_fault', 'pte_update', 'context_switch', 'mmio_read', 'block_read', 'timer_irq', 'hypercall', 'spawn_exit']);
    expect(out).toContain('wvbench done');
    const s = r.stats;
    expect(s.pvPrivFaults).toBe(0n);
    expect(s.exceptionsByCause[2]).toBe(0n); // no illegal instruction at all
    expect(s.sbiCalls).toBe(0n);
    expect(s.pvRefused).toBe(0n);
    expect(s.pvHypercalls).toBeGreaterThan(1000n);
    expect(s.pvMmuOps).toBeGreaterThan(100n);
    expect(s.interruptsByCause[5]).toBeGreaterThanOrEqual(50n); // the timer benchmark's interrupts
    expect(s.mmioReads + s.mmioWrites).toBe(0n); // no device registers
    expect(m.stats().devices).toEqual([expect.objectContaining({ device: 'pv-blk', errors: 0 })]);
    expect(s.pvHostExits).toBeGreaterThan(50n); // block_read: one notify each
  });

  it('runs without a disk: the block benchmark is skipped, nothing fails', async () => {
    const { r, out } = await boot('paravirt', pv, 'iters=20 only=mmio_read,block_read', false);
    expect(r.reason).toBe('poweroff');
    expect(out).toMatch(/wvbench skipped name=block_read reason=no-disk/);
    expect(out).toMatch(/wvbench name=mmio_read ops=20/);
  });

  it('refuses the native kernel with a clear error: it traps on its first privileged instruction', async () => {
    const { r } = await boot('paravirt', native, '');
    expect(r.reason).toBe('error');
    expect(r.message).toMatch(/paravirtual guest took a trap \(illegal instruction.*is the kernel a paravirtual build/);
  });

  it('reports a double fault of the guest kernel (a fault at its own trap vector) in one line', async () => {
    const g = new Guest().hc(FN.SET_SHARED, SHARED).hc(FN.SET_TRAP_VECTOR, 0x4000_0000n); // nothing mapped there
    g.p.i('ebreak');
    const m = await createMachine({ type: 'paravirt', memory: '4M', kernel: makeElf(g.end().p.assemble()), jit: false });
    const r = await m.run();
    expect(r.reason).toBe('error');
    expect(r.message).toBe('the paravirtual guest faulted at its own trap vector (instruction page fault, pc 0x40000000): a double fault, it cannot go on');
  });

  it('the paravirtual kernel on the native machine says what it needs and powers off', async () => {
    const { r, out } = await boot('native', pv, '');
    expect(r.reason).toBe('poweroff');
    expect(r.status).toBe(1);
    expect(out).toContain("this is the paravirtual build; it runs on wasmvisor's paravirt machine");
  });

  it.each([
    [{ memory: '63M' }, ConfigError, /multiple of 2 MiB/],
    [{ memory: '2G' }, ConfigError, /at most 1 GiB/],
    [{ initrd: new Uint8Array(16) }, ConfigError, /no initrd/],
    [{ drives: [{ data: new Uint8Array(512) }, { data: new Uint8Array(512) }] }, ConfigError, /one disk, not 2/],
    [{ net: true }, ConfigError, /no virtio devices/],
    [{ bios: new Uint8Array(16) }, ConfigError, /no bios/],
    [{ kernel: new Uint8Array(64) }, LoadError, /ELF kernels only/],
    [{ kernel: undefined }, ConfigError, /no kernel given/],
  ])('refuses a bad configuration: %o', async (extra, type, message) => {
    const p = createMachine({ type: 'paravirt', memory: '64M', kernel: pv, ...extra });
    await expect(p).rejects.toThrow(type);
    await expect(p).rejects.toThrow(message);
  });
});

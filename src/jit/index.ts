// The host's half of the JIT (the core's half: assembly/hart/jit.ts). After each run() the
// core may have queued hot blocks; they are compiled together into one Wasm module whose
// functions are placed in the core's function table, where the run loop calls them.
import type { CoreExports } from '../core.js';
import { assemble, type Func } from './wasm.js';
import { compileRegion, compilable, successors, MAX_REGION, CORE_IMPORTS, BLOCK_TYPES, type RegionInsn, type Region } from './compile.js';

export interface JitOptions {
  /** Times a jump, branch or trap lands on an instruction before its region is compiled (default 10000). */
  threshold?: number;
  /** Queued regions that interrupt a run() slice to be compiled at once (default 256: a full queue; otherwise they wait for the slice to end). */
  batch?: number;
  /** Compiled blocks kept before all are dropped and the table reused (default 32768). */
  maxBlocks?: number;
}

export interface JitStats {
  /** Blocks compiled and installed. */
  blocks: number;
  /** Guest instructions in them (one pass each). */
  instructions: number;
  /** Hot spots where nothing could be compiled (the first instruction is not compilable). */
  rejected: number;
  /** Wasm modules built (one per batch of queued blocks). */
  modules: number;
  /** Host milliseconds spent building and compiling them (all of it, including engineMs). */
  compileMs: number;
  /** Of compileMs: the Wasm engine's part (compiling and instantiating the modules). */
  engineMs: number;
  /** Times every block was dropped to reuse the table. */
  flushes: number;
  /** Batches the Wasm engine refused (a compiler defect; the blocks stay interpreted). */
  errors: number;
  lastError?: string;
}

const JIT_QUEUED = 0xffff_fffe;
interface Compiled {
  slot: number;
  /** The budget a call needs before stopAt (compileRegion entryLen). */
  len: number;
  size: number;
  region: Region;
}
/** Blocks compiled after uncompilable instructions, per queued block (on average). */
const CHAIN_LIMIT = 4;

export class Jit {
  readonly stats: JitStats = { blocks: 0, instructions: 0, rejected: 0, modules: 0, compileMs: 0, engineMs: 0, flushes: 0, errors: 0 };
  private readonly table: WebAssembly.Table;
  private readonly base: number;
  private next: number;
  private readonly maxBlocks: number;
  private readonly imports: WebAssembly.Imports;
  private readonly c: (name: string) => number;

  constructor(private readonly ex: CoreExports, constant: (name: string) => number, opts: JitOptions = {}) {
    const threshold = opts.threshold ?? 10000;
    this.maxBlocks = opts.maxBlocks ?? 32768;
    if (!Number.isInteger(threshold) || threshold < 1 || threshold > 1e6) throw new RangeError(`JIT threshold must be an integer in 1..1000000, not ${threshold}`);
    if (!Number.isInteger(this.maxBlocks) || this.maxBlocks < 1 || this.maxBlocks > 1 << 22) throw new RangeError(`JIT maxBlocks must be an integer in 1..4194304, not ${this.maxBlocks}`);
    this.c = constant;
    this.table = ex.table as WebAssembly.Table;
    this.base = this.table.length;
    this.next = this.base;
    const core: Record<string, unknown> = {};
    for (const i of CORE_IMPORTS) core[i.name] = ex[i.name];
    this.imports = { core: core as WebAssembly.ModuleImports };
    const batch = opts.batch ?? 256;
    if (!Number.isInteger(batch) || batch < 1 || batch > this.c('JIT_QUEUE_ENTRIES')) throw new RangeError(`JIT batch must be an integer in 1..${this.c('JIT_QUEUE_ENTRIES')}, not ${batch}`);
    (ex.setJit as (on: number, threshold: number, batch: number) => void)(1, threshold, batch);
  }

  /** Stop calling compiled blocks (they stay installed; the interpreter runs everything). */
  disable(): void {
    (this.ex.setJit as (on: number, threshold: number, batch: number) => void)(0, 0, 1);
  }

  /** Compile whatever the last run() queued. */
  poll(): void {
    const dv = new DataView(this.ex.memory.buffer);
    const q = this.c('JIT_QUEUE');
    const n = dv.getUint32(q, true);
    if (n === 0) return;
    dv.setUint32(q, 0, true);
    const t0 = performance.now();
    const jitMap = this.c('JIT_MAP');
    const icache = this.c('ICACHE_BASE');
    const blocks: Compiled[] = [];
    const funcs: Func[] = [];
    const layout = { X_BASE: this.c('X_BASE'), TLB_ENTRIES: this.c('TLB_ENTRIES') };
    const work: number[] = [];
    for (let k = 0; k < n; k++) {
      const slot = dv.getUint32(q + 8 + 4 * k, true);
      if (dv.getUint32(jitMap + ((slot - icache) >>> 2), true) === JIT_QUEUED) work.push(slot);
    }
    // A block that ends at an instruction it cannot compile (a CSR access, an AMO, ...), or
    // at its length limit, is followed by code no jump lands on, so it would never count as
    // hot: compile the block after it too, a few deep.
    const claim = this.ex.jitClaim as (s: number) => number;
    for (let k = 0, chained = 0; k < work.length; k++) {
      const slot = work[k];
      const { region, afters } = this.readRegion(slot);
      for (const a of afters) if (chained < CHAIN_LIMIT * n && claim(a)) { work.push(a); chained++; }
      if (region.insns.size === 0) {
        (this.ex.jitReject as (s: number) => void)(slot);
        this.stats.rejected++;
        continue;
      }
      const { func, entryLen } = compileRegion(region, layout);
      funcs.push({ ...func, export: `b${funcs.length}` });
      blocks.push({ slot, len: entryLen, size: region.insns.size, region });
    }
    if (funcs.length) this.install(funcs, blocks);
    this.stats.compileMs += performance.now() - t0;
  }

  private install(funcs: Func[], blocks: Compiled[]): void {
    if (this.next - this.base + funcs.length > this.maxBlocks) {
      this.flush();
      // the flush forgot that these were queued; their code is unchanged, so claim them again
      for (const b of blocks) (this.ex.jitClaim as (s: number) => number)(b.slot);
    }
    let exports: WebAssembly.Exports;
    const bytes = assemble(BLOCK_TYPES, CORE_IMPORTS, funcs);
    const t0 = performance.now();
    try {
      const module = new WebAssembly.Module(bytes);
      exports = new WebAssembly.Instance(module, this.imports).exports;
      this.stats.engineMs += performance.now() - t0;
    } catch (e) {
      this.stats.errors++;
      this.stats.lastError = (e as Error).message;
      for (const b of blocks) (this.ex.jitReject as (s: number) => void)(b.slot);
      return;
    }
    this.stats.modules++;
    const need = this.next + funcs.length - this.table.length;
    if (need > 0) this.table.grow(need);
    blocks.forEach((b, i) => {
      const index = this.next++;
      this.table.set(index, exports[`b${i}`] as () => void);
      if ((this.ex.jitInstall as (s: number, i: number, l: number) => number)(b.slot, index, b.len)) {
        this.stats.blocks++;
        this.stats.instructions += b.size;
        this.markCovered(b.slot, b.region);
      }
    });
  }

  /** Mark the halfwords the region's instructions occupy (a store there drops the page's code). */
  private markCovered(slot: number, region: Region): void {
    const icache = this.c('ICACHE_BASE');
    const v = Math.floor((slot - icache) / this.c('ICACHE_PAGE_BYTES'));
    const bits = new Uint8Array(this.ex.memory.buffer, this.c('JIT_COVER') + v * this.c('JIT_COVER_BYTES'), this.c('JIT_COVER_BYTES'));
    for (const i of region.insns.values()) {
      for (let h = i.off >> 1; h <= (i.off + i.len - 1) >> 1; h++) bits[h >> 3] |= 1 << (h & 7);
    }
  }

  /** Drop every compiled block and reuse the table from the start. */
  flush(): void {
    (this.ex.jitFlushAll as () => void)();
    for (let i = this.base; i < this.table.length; i++) this.table.set(i, null);
    this.next = this.base;
    this.stats.flushes++;
  }

  /**
   * The region of `slot` (compile.ts Region); `afters`: slots after the instructions that
   * stopped it (not compilable, or past the size limit), where no jump may ever land.
   */
  private readRegion(slot: number): { region: Region; afters: number[] } {
    const opJit = this.c('OP_JIT');
    const slotSize = this.c('SLOT_SIZE');
    const pageBytes = this.c('ICACHE_PAGE_BYTES');
    const icache = this.c('ICACHE_BASE');
    const [RAW, LEN, RD, RS1, RS2, IMM] = ['SLOT_RAW', 'SLOT_LEN', 'SLOT_RD', 'SLOT_RS1', 'SLOT_RS2', 'SLOT_IMM'].map((n) => this.c(n));
    const page = slot - ((slot - icache) % pageBytes);
    const entry = ((slot - icache) % pageBytes) / slotSize * 2;
    const decode = this.ex.jitDecode as (s: number) => number;
    const insns = new Map<number, RegionInsn>();
    const afters: number[] = [];
    const seen = new Set<number>();
    const todo = [entry];
    // decoding writes slots but never grows memory: one view serves the whole walk
    const dv = new DataView(this.ex.memory.buffer);
    while (todo.length) {
      const off = todo.pop()!;
      if (seen.has(off) || off < 0 || off >= 4096) continue;
      seen.add(off);
      const s = page + (off / 2) * slotSize;
      if (insns.size >= MAX_REGION) {
        afters.push(s);
        continue;
      }
      let op = decode(s);
      if (op === 0) continue; // runs off the page
      // a region starts here: the slot keeps the original instruction's bits and operands
      if (op === opJit) op = this.ex.decodeOp(dv.getUint32(s + RAW, true));
      const len = dv.getUint8(s + LEN);
      if (!compilable(op)) {
        if (off + len < 4096) afters.push(s + (len / 2) * slotSize);
        continue;
      }
      const i: RegionInsn = {
        op, len, off,
        rd: dv.getUint8(s + RD), rs1: dv.getUint8(s + RS1), rs2: dv.getUint8(s + RS2), imm: dv.getInt32(s + IMM, true),
      };
      insns.set(off, i);
      // depth first along the fall-through path, so a region is mostly straight-line code
      todo.push(...successors(i).reverse());
    }
    return { region: { entry, insns }, afters };
  }
}

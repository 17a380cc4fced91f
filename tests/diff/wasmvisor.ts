// The same raw image on wasmvisor: RAM at 0x8000_0000 (as large as QEMU's), reset there in
// M-mode, run until the guest powers off; the UART output is what it printed.
import { Core, Exit } from '../../src/core.js';
import { QEMU_RAM_MB, QEMU_CPU } from './qemu.js';

export const RAM_BASE = 0x8000_0000n;
const RAM_BYTES = QEMU_RAM_MB * 1024 * 1024;

export interface WasmResult {
  out: string;
  exit: Exit | 'budget';
  instret: bigint;
}

let core: Promise<Core> | undefined;
let dirty = 0;

/**
 * Clear RAM where the last program wrote, load `image`, reset. Synchronous on purpose:
 * callers await the core first, then load and run with no await in between, so concurrent
 * programs cannot interleave on the one core.
 */
function loadFresh(c: Core, image: Uint8Array, touched: number): Core {
  c.writeRam(RAM_BASE, new Uint8Array(Math.max(dirty, touched, image.length)));
  dirty = Math.max(touched, image.length);
  c.writeRam(RAM_BASE + BigInt(RAM_BYTES - 4096), new Uint8Array(4096));
  c.writeRam(RAM_BASE, image);
  // H as the reference QEMU's hart is configured (qemu.ts QEMU_CPU: with H)
  c.setHypervisorExtension(QEMU_CPU.includes('h=true'));
  c.reset(RAM_BASE);
  return c;
}

/**
 * Run `image` from a clean machine. `touched`: how many bytes from 0x8000_0000 the program
 * may write (cleared before the run, since QEMU starts from zeroed RAM); the last page of
 * RAM is cleared too (programs store across the end of RAM).
 */
export async function runWasmvisor(image: Uint8Array, touched: number, budget = 5_000_000n): Promise<WasmResult> {
  core ??= Core.create(RAM_BYTES);
  // everything after this await is synchronous: programs cannot interleave on the one core
  const c = loadFresh(await core, image, touched);
  const chunks: Uint8Array[] = [];
  let exit: Exit | 'budget' = 'budget';
  for (;;) {
    const done = c.stats().instret + c.stats().traps;
    if (done >= budget) break;
    const r = c.run(budget - done < 100_000n ? budget - done : 100_000n);
    chunks.push(c.drainConsole());
    if (r === Exit.Budget || r === Exit.Console) continue;
    exit = r;
    break;
  }
  return { out: Buffer.concat(chunks).toString('latin1'), exit, instret: c.stats().instret };
}

export interface TraceLine {
  pc: bigint;
  insn: number;
  /** registers read before it executed and written after, by operand name */
  before: Record<string, bigint>;
  after: Record<string, bigint>;
  trapped: boolean;
}

/**
 * Run `image` until pc reaches `from`, then single-step while pc stays in [from, to) (the
 * trap handlers' instructions are skipped over), recording each instruction's operands: the
 * inputs of a step that went wrong, for the report.
 */
export async function traceWasmvisor(image: Uint8Array, touched: number, from: bigint, to: bigint,
  operands: (insn: number) => { reads: [string, 'x' | 'f', number][]; writes: [string, 'x' | 'f', number][] }, max = 200): Promise<TraceLine[]> {
  core ??= Core.create(RAM_BYTES);
  const c = loadFresh(await core, image, touched);
  const out: TraceLine[] = [];
  let guard = 0;
  while (c.pc !== from) {
    if (++guard > 2_000_000 || c.run(1) !== Exit.Budget) return out;
  }
  const read = (k: 'x' | 'f', r: number) => (k === 'x' ? c.x(r) : c.f(r));
  while (out.length < max && c.pc >= from && c.pc < to) {
    const pc = c.pc;
    const half = c.ram(pc, 2);
    const lo = half[0] | (half[1] << 8);
    const insn = (lo & 3) === 3 ? new DataView(c.ram(pc, 4).slice().buffer).getUint32(0, true) : lo;
    const ops = operands(insn);
    const before: Record<string, bigint> = {};
    for (const [name, k, r] of ops.reads) before[name] = read(k, r);
    before.fcsr = c.csr(0x003);
    const traps = c.stats().traps;
    if (c.run(1) !== Exit.Budget) break;
    const trapped = c.stats().traps > traps;
    const after: Record<string, bigint> = {};
    if (!trapped) for (const [name, k, r] of ops.writes) after[name] = read(k, r);
    after.fcsr = c.csr(0x003);
    out.push({ pc, insn, before, after, trapped });
    // a trap: let the handler run until it returns into the step
    let g = 0;
    while (trapped && (c.pc < from || c.pc >= to) && ++g < 1000) if (c.run(1) !== Exit.Budget) break;
  }
  return out;
}

// A bare machine: the hart, RAM and the board's devices, running an image from reset in
// M-mode with no firmware (QEMU's `-bios none`). The base the machine types build on.
import { Core, Exit, type CoreStats } from '../core.js';
import { yieldToHost } from '../host.js';
import { parseElf, isElf, LoadError } from '../loader/elf.js';
import type { JitOptions } from '../jit/index.js';

export interface BareOptions {
  /** guest RAM in bytes */
  memory: bigint;
  /** an ELF64 RISC-V executable, or a raw image loaded at the start of RAM */
  image: Uint8Array;
  imageName?: string;
  /** stop after this many instructions (default: no limit) */
  maxInstructions?: bigint;
  /** guest console output */
  onConsole?: (bytes: Uint8Array) => void;
  /** instructions per run() slice; between slices the host event loop runs */
  slice?: number;
  /** called after every instruction (single-steps the hart: slow; no JIT) */
  trace?: (pc: bigint, insn: number, priv: number) => void;
  /** compile hot code (src/jit/): on by default, as in createMachine; false interprets only */
  jit?: boolean | JitOptions;
  /** the hart has the H extension (default true, as -cpu rv64) */
  h?: boolean;
}

export type StopReason = 'poweroff' | 'fail' | 'reset' | 'limit' | 'idle';

export interface BareResult {
  reason: StopReason;
  /** the guest's exit status (sifive_test code), 0 unless it failed */
  status: number;
  stats: CoreStats;
  seconds: number;
  /** where the hart stopped: pc, privilege and the last instruction it executed */
  pc: bigint;
  priv: number;
  lastInsn: number;
}

export const RAM_PHYS = 0x8000_0000n;

/** Load an ELF's PT_LOAD segments at their physical addresses (bss zeroed); what it covered. */
export function loadElf(core: Core, image: Uint8Array, name: string): { start: bigint; end: bigint; entry: bigint } {
  const ramEnd = RAM_PHYS + core.ramSize;
  const elf = parseElf(image, name);
  let start = ramEnd, end = RAM_PHYS;
  for (const s of elf.segments) {
    if (s.paddr < RAM_PHYS || s.paddr + s.memsz > ramEnd)
      throw new LoadError(`${name}: segment at 0x${s.paddr.toString(16)} (+0x${s.memsz.toString(16)}) does not fit in RAM 0x${RAM_PHYS.toString(16)}..0x${ramEnd.toString(16)}`);
    core.writeRam(s.paddr, s.data);
    const bss = Number(s.memsz) - s.data.length;
    if (bss > 0) core.writeRam(s.paddr + BigInt(s.data.length), new Uint8Array(bss));
    if (s.paddr < start) start = s.paddr;
    if (s.paddr + s.memsz > end) end = s.paddr + s.memsz;
  }
  return { start, end, entry: elf.entry };
}

/** Load an ELF or raw image into the core's RAM; returns the entry point. */
export function loadImage(core: Core, image: Uint8Array, name = 'image'): bigint {
  if (isElf(image)) return loadElf(core, image, name).entry;
  if (image.length === 0) throw new LoadError(`${name}: empty image`);
  if (BigInt(image.length) > core.ramSize)
    throw new LoadError(`${name}: ${image.length} bytes do not fit in ${core.ramSize} bytes of RAM`);
  core.writeRam(RAM_PHYS, image);
  return RAM_PHYS;
}


export async function runBare(opts: BareOptions): Promise<BareResult> {
  const core = await Core.create(opts.memory);
  if (opts.jit !== false && !opts.trace) core.enableJit(typeof opts.jit === 'object' ? opts.jit : {});
  const entry = loadImage(core, opts.image, opts.imageName);
  core.setHypervisorExtension(opts.h ?? true);
  core.reset(entry);
  // Start with short slices: V8 only swaps in optimized code for run() between calls.
  // Grow to `slice` (default 10M instructions, ~50 ms) once it is warm.
  const maxSlice = opts.trace ? 1n : BigInt(opts.slice ?? 10_000_000);
  let slice = opts.trace ? 1n : 50_000n;
  const limit = opts.maxInstructions;
  const t0 = performance.now();
  let reason: StopReason | undefined;
  while (!reason) {
    let budget = slice;
    if (slice < maxSlice) slice = slice * 2n > maxSlice ? maxSlice : slice * 2n;
    if (limit !== undefined) {
      const left = limit - core.stats().instret;
      if (left <= 0n) { reason = 'limit'; break; }
      if (left < budget) budget = left;
    }
    const pc = core.pc, priv = core.priv;
    const r = core.run(budget);
    if (opts.trace) opts.trace(pc, core.lastInsn, priv);
    const out = core.drainConsole();
    if (out.length && opts.onConsole) opts.onConsole(out);
    if (r === Exit.Poweroff) reason = 'poweroff';
    else if (r === Exit.Fail) reason = 'fail';
    else if (r === Exit.Reset) reason = 'reset';
    else if (r === Exit.Wfi) reason = 'idle'; // WFI with no interrupt that could ever wake it
    else if (r === Exit.Budget && !opts.trace) await yieldToHost();
  }
  return {
    reason,
    status: reason === 'fail' ? core.exitValue : 0,
    stats: core.stats(),
    seconds: (performance.now() - t0) / 1000,
    pc: core.pc,
    priv: core.priv,
    lastInsn: core.lastInsn,
  };
}

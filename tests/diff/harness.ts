// Differential testing: one generated program on QEMU and on wasmvisor, outputs compared line
// by line; on a mismatch, bisection over body prefixes finds the first step after which the
// two disagree, and a report names the seed, the step, its instructions disassembled, and
// every register, CSR, memory word and trap-log field that differs.
import { disassemble } from '../../src/isa/disasm.js';
import { decode } from '../../src/isa/encode.js';
import { INSN_BY_NAME } from '../../src/isa/table.js';
import { FIELDS, XREG_NAMES, FREG_NAMES } from '../../src/isa/opcodes.js';
import { generate, TOUCHED, type Flavour, type Program } from './gen.js';
import { runQemu, qemuAvailable } from './qemu.js';
import { runWasmvisor, traceWasmvisor } from './wasmvisor.js';

export { FLAVOURS, type Flavour } from './gen.js';
export { qemuAvailable } from './qemu.js';

export interface Output {
  lines: string[] | null;
  /** why there is no dump (timeout, no poweroff, garbled) */
  error?: string;
  raw: string;
}

/** The hex lines between the begin and end markers. */
export function parseOutput(raw: string): Output {
  const b = raw.indexOf('@@\n');
  const e = raw.indexOf('##\n', b + 3);
  if (b < 0 || e < 0) return { lines: null, error: 'no complete dump on the UART', raw };
  const lines = raw.slice(b + 3, e).split('\n').filter((l) => l.length > 0);
  const bad = lines.find((l) => !/^[0-9a-f]{16}$/.test(l));
  if (bad !== undefined) return { lines: null, error: `garbled line ${JSON.stringify(bad)}`, raw };
  return { lines, raw };
}

export interface Difference {
  what: string;
  qemu: string;
  wasmvisor: string;
}

/** the fields of a trap-log entry (gen.ts LOG) */
const LOG_FIELDS = ['to', 'cause', 'epc', 'tval', 'tval2', 'tinst', 'status', 'zero'];

export function lineName(p: Program, i: number): string {
  if (i < p.names.length) return p.names[i];
  const k = i - p.names.length;
  return `trap[${Math.floor(k / LOG_FIELDS.length)}].${LOG_FIELDS[k % LOG_FIELDS.length]}`;
}

export function compare(p: Program, q: Output, w: Output): Difference[] {
  if (!q.lines || !w.lines) {
    if (!q.lines && !w.lines && q.error === w.error) return [{ what: 'run', qemu: q.error!, wasmvisor: w.error! }];
    return [{ what: 'run', qemu: q.error ?? `${q.lines!.length} lines`, wasmvisor: w.error ?? `${w.lines!.length} lines` }];
  }
  const out: Difference[] = [];
  const n = Math.max(q.lines.length, w.lines.length);
  for (let i = 0; i < n; i++) {
    const a = q.lines[i] ?? '(none)';
    const b = w.lines[i] ?? '(none)';
    if (a !== b) out.push({ what: lineName(p, i), qemu: a, wasmvisor: b });
  }
  return out;
}

export interface RunPair {
  q: Output;
  w: Output;
  diffs: Difference[];
  qemuSeconds: number;
  instret: bigint;
}

/** Run the program truncated to `count` body steps on both machines and compare. */
export async function runPair(p: Program, count?: number, timeoutMs = 30_000): Promise<RunPair> {
  const img = p.build(count).bytes;
  const wr = await runWasmvisor(img, TOUCHED);
  const w = parseOutput(wr.out);
  if (wr.exit !== 1 && !w.lines) w.error = `wasmvisor stopped with ${wr.exit} after ${wr.instret} instructions; ${w.error}`;
  const qr = await runQemu(img, timeoutMs);
  const q = parseOutput(qr.out);
  if (qr.timedOut) q.error = `QEMU timed out after ${timeoutMs} ms; ${q.error ?? 'dump complete'}`;
  else if (!q.lines) q.error = `QEMU exit ${qr.exitCode}: ${q.error} ${qr.stderr.trim()}`;
  return { q, w, diffs: compare(p, q, w), qemuSeconds: qr.seconds, instret: wr.instret };
}

export interface SeedResult {
  seed: number;
  flavour: Flavour;
  steps: number;
  ok: boolean;
  diffs: Difference[];
  /** first body step (1-based count N) after which the outputs differ */
  firstBad?: number;
  report?: string;
  qemuRuns: number;
  seconds: number;
}

/** Check one seed; on a mismatch, bisect and write the report. */
export async function checkSeed(seed: number, flavour: Flavour, steps = 200, timeoutMs = 30_000): Promise<SeedResult> {
  const t0 = performance.now();
  const p = generate(seed, flavour, { steps });
  const full = await runPair(p, undefined, timeoutMs);
  let runs = 1;
  const res: SeedResult = { seed, flavour, steps, ok: full.diffs.length === 0, diffs: full.diffs, qemuRuns: 1, seconds: 0 };
  if (!res.ok) {
    // bisection: the empty body must agree (else the harness itself disagrees)
    const empty = await runPair(p, 0, timeoutMs);
    runs++;
    let lo = 0;
    let hi = p.body.length;
    let hiDiffs = full.diffs;
    if (empty.diffs.length) {
      hi = 0;
      hiDiffs = empty.diffs;
    } else {
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        const r = await runPair(p, mid, timeoutMs);
        runs++;
        if (r.diffs.length) {
          hi = mid;
          hiDiffs = r.diffs;
        } else lo = mid;
      }
    }
    res.firstBad = hi;
    res.report = report(p, hi, hiDiffs, full.diffs, await traceStep(p, hi));
  }
  res.qemuRuns = runs;
  res.seconds = (performance.now() - t0) / 1000;
  return res;
}

/** The instructions of body step n-1 (the n-th), disassembled with their addresses. */
export function describeStep(p: Program, n: number): string[] {
  if (n === 0) return ['(the empty body: prologue or epilogue)'];
  const lay = p.build(n);
  const placed = lay.placed[lay.bodyStart + n - 1];
  const dv = new DataView(lay.bytes.buffer);
  const out = [`step ${n} of ${p.body.length}: ${placed.step.kind}`];
  placed.step.items.forEach((it, k) => {
    const a = placed.addrs[k];
    const off = Number(a - 0x8000_0000n);
    if (it.k === 'i' || it.k === 'hi' || it.k === 'lo' || it.k === 'raw') {
      const half = dv.getUint16(off, true);
      const insn = (half & 3) === 3 ? dv.getUint32(off, true) : half;
      const hex = (half & 3) === 3 ? insn.toString(16).padStart(8, '0') : insn.toString(16).padStart(4, '0').padStart(8);
      out.push(`  0x${a.toString(16)}: ${hex}  ${disassemble(insn, a)}`);
    }
  });
  return out;
}

/** The registers an instruction reads and writes (for traces). */
export function operandsOf(insn: number): { reads: [string, 'x' | 'f', number][]; writes: [string, 'x' | 'f', number][] } {
  const d = decode(insn);
  const reads: [string, 'x' | 'f', number][] = [];
  const writes: [string, 'x' | 'f', number][] = [];
  const reg = (k: 'x' | 'f', r: number): [string, 'x' | 'f', number] => [k === 'x' ? XREG_NAMES[r] : FREG_NAMES[r], k, r];
  if (d.name === 'illegal') return { reads, writes };
  if (d.base !== undefined) {
    const base = INSN_BY_NAME.get(d.base)!;
    const fp = base.args.some((a) => a.startsWith('f'));
    const { rd, rs1, rs2 } = d.ops;
    if (base.args.includes('rs1')) reads.push(reg('x', rs1));
    if (base.args.includes('rs2')) reads.push(reg('x', rs2));
    if (base.args.includes('frs2')) reads.push(reg('f', rs2));
    if (base.args.includes('rd') && rd) writes.push(reg('x', rd));
    if (base.args.includes('frd')) writes.push(reg(fp ? 'f' : 'x', rd));
    return { reads, writes };
  }
  const i = INSN_BY_NAME.get(d.name)!;
  for (const a of i.args) {
    const kind = FIELDS[a].kind;
    const r = d.ops[a];
    if (kind === 'xreg' && a === 'rd') { if (r) writes.push(reg('x', r)); }
    else if (kind === 'xreg') reads.push(reg('x', r));
    else if (kind === 'freg' && a === 'frd') writes.push(reg('f', r));
    else if (kind === 'freg') reads.push(reg('f', r));
  }
  return { reads, writes };
}

/** wasmvisor's view of step n: each instruction with the values it read and wrote. */
export async function traceStep(p: Program, n: number): Promise<string[]> {
  if (n === 0) return [];
  const lay = p.build(n);
  const placed = lay.placed[lay.bodyStart + n - 1];
  const t = await traceWasmvisor(lay.bytes, TOUCHED, placed.start, placed.end, operandsOf);
  const hex = (v: bigint) => '0x' + v.toString(16);
  return t.map((l) => {
    const b = Object.entries(l.before).map(([k, v]) => `${k}=${hex(v)}`).join(' ');
    const a = l.trapped ? 'trapped' : Object.entries(l.after).map(([k, v]) => `${k}=${hex(v)}`).join(' ');
    return `  ${disassemble(l.insn, l.pc).padEnd(30)} in: ${b}  out: ${a}`;
  });
}

export function reproduceCommand(seed: number, flavour: Flavour, steps: number): string {
  return `node scripts/diff-soak.mjs --flavour ${flavour} --seed ${seed} --count 1 --steps ${steps}`;
}

function report(p: Program, n: number, diffs: Difference[], fullDiffs: Difference[], trace: string[]): string {
  const lines = [
    `MISMATCH seed=${p.seed} flavour=${p.flavour} first differing step N=${n} (of ${p.body.length})`,
    ...describeStep(p, n),
    `  differences after step ${n} (QEMU vs wasmvisor):`,
    ...diffs.slice(0, 40).map((d) => `    ${d.what.padEnd(22)} qemu=${d.qemu}  wasmvisor=${d.wasmvisor}`),
  ];
  if (diffs.length > 40) lines.push(`    ... ${diffs.length - 40} more`);
  if (trace.length) lines.push(`  step ${n} on wasmvisor (operands before, results after; the state before the step is the same on QEMU):`, ...trace);
  if (n !== p.body.length) lines.push(`  (the full program differs in ${fullDiffs.length} lines)`);
  lines.push(`  reproduce: ${reproduceCommand(p.seed, p.flavour, p.body.length)}`);
  return lines.join('\n');
}

/** Run `jobs` with at most `limit` in flight. */
export async function pool<T, R>(items: T[], limit: number, job: (t: T) => Promise<R>, onDone?: (r: R) => void): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const k = next++;
      out[k] = await job(items[k]);
      onDone?.(out[k]);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export function qemuStatus(): { ok: boolean; version: string; why: string } {
  return qemuAvailable();
}

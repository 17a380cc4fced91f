// Differential testing against QEMU (docs/differential-testing.md): random RV64GC programs,
// run on `qemu-system-riscv64 -M virt -bios none` and on wasmvisor, must print the same
// registers, CSRs, memory and trap log. A bounded number of seeds per flavour keeps CI near a
// minute; scripts/diff-soak.mjs runs as many as you like.
//
// Environment: DIFF_SEEDS (seeds per flavour, default 60; the hypervisor flavour runs at most
// DIFF_SEEDS_HYPERVISOR of them, default 40, to keep CI near a minute), DIFF_SEED_START (default 1),
// DIFF_STEPS (body steps per program, default 200), DIFF_JOBS (parallel QEMUs, default 3).
import { describe, it, expect } from 'vitest';
import { checkSeed, pool, qemuAvailable, parseOutput, compare, FLAVOURS, type SeedResult } from './harness.js';
import { generate, TOUCHED } from './gen.js';
import { runWasmvisor } from './wasmvisor.js';

const SEEDS = Number(process.env.DIFF_SEEDS ?? 60);
const SEEDS_H = Math.min(SEEDS, Number(process.env.DIFF_SEEDS_HYPERVISOR ?? 40));
const seedsOf = (f: string) => (f === 'hypervisor' ? SEEDS_H : SEEDS);
const START = Number(process.env.DIFF_SEED_START ?? 1);
const STEPS = Number(process.env.DIFF_STEPS ?? 200);
const JOBS = Number(process.env.DIFF_JOBS ?? 3);

const qemu = qemuAvailable();
if (!qemu.ok) {
  // loud, so that a CI log shows that the comparison did not happen
  console.warn(`\n*** differential tests SKIPPED: ${qemu.why}\n*** install qemu-system-riscv64 (QEMU 7.2) to run them\n`);
}

describe('differential testing: the generator and harness', () => {
  it('generates the same program from the same seed, and every prefix assembles', () => {
    for (const f of FLAVOURS) {
      const a = generate(7, f).build().bytes;
      const b = generate(7, f).build().bytes;
      expect(Buffer.from(a).equals(Buffer.from(b)), f).toBe(true);
      const p = generate(7, f);
      for (const n of [0, 1, p.body.length >> 1, p.body.length]) expect(p.build(n).bytes.length).toBeGreaterThan(0);
    }
  });

  it('every program powers off on wasmvisor with a complete dump', async () => {
    for (const f of FLAVOURS) {
      const p = generate(3, f);
      const r = await runWasmvisor(p.build().bytes, TOUCHED);
      const out = parseOutput(r.out);
      expect(out.error, f).toBeUndefined();
      expect(out.lines!.length, f).toBeGreaterThanOrEqual(p.names.length);
    }
  });

  it('the comparison notices a difference in any line', async () => {
    const p = generate(5, 'mixed');
    const r = await runWasmvisor(p.build().bytes, TOUCHED);
    const a = parseOutput(r.out);
    const lines = [...a.lines!];
    lines[40] = lines[40] === '0000000000000000' ? '0000000000000001' : '0000000000000000';
    const d = compare(p, a, { ...a, lines });
    expect(d).toHaveLength(1);
    expect(d[0].what).toBe(p.names[40]);
    expect(compare(p, a, { ...a, lines: lines.slice(0, -1) }).length).toBeGreaterThan(0);
  });
});

describe.each(FLAVOURS.map((f) => [f]))('differential testing against QEMU: %s', (flavour) => {
  it.skipIf(!qemu.ok)(`${seedsOf(flavour)} seeds agree with ${qemu.version || 'QEMU'}`, async () => {
    const seeds = Array.from({ length: seedsOf(flavour) }, (_, i) => START + i);
    const results: SeedResult[] = await pool(seeds, JOBS, (s) => checkSeed(s, flavour, STEPS));
    const bad = results.filter((r) => !r.ok);
    for (const r of bad) console.error(r.report + '\n');
    expect(bad.map((r) => `seed ${r.seed}: step ${r.firstBad}`), `${bad.length} of ${seeds.length} ${flavour} seeds disagree (reports above)`).toEqual([]);
  }, 600_000);
});

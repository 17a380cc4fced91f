// Proof item 3 of the core: nothing a guest does makes the host throw. Garbage instructions
// are guest traps, wild accesses are access faults, random privileged state is survivable.
import { describe, it, expect } from 'vitest';
import { Core, Exit } from '../src/core.js';
import { encode } from '../src/isa/encode.js';

function rng(seed: number) {
  let s = (seed * 2654435761) >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s;
  };
}

const RAM = 0x8000_0000n;

describe('robustness', () => {
  it('runs 100 images of random bytes without a host exception', async () => {
    const core = await Core.create(1 << 20);
    let traps = 0n;
    for (let seed = 1; seed <= 100; seed++) {
      const next = rng(seed);
      const img = new Uint8Array(64 * 1024);
      for (let i = 0; i < img.length; i += 4) new DataView(img.buffer).setUint32(i, next(), true);
      core.writeRam(RAM, img);
      core.reset(RAM);
      // a trap vector inside the garbage, so traps keep executing garbage
      const r = core.run(200_000);
      expect([Exit.Budget, Exit.Poweroff, Exit.Fail, Exit.Reset, Exit.Wfi, Exit.Console]).toContain(r);
      traps += core.stats().traps;
      core.drainConsole();
    }
    expect(traps).toBeGreaterThan(100n);
  });

  it('survives random CSR writes (satp, mstatus, pmp, tvec) mixed with garbage', async () => {
    const core = await Core.create(1 << 20);
    const csrs = [0x180, 0x300, 0x100, 0x3a0, 0x3b0, 0x3b1, 0x305, 0x105, 0x302, 0x303, 0x304, 0x344, 0x30a, 0x14d];
    for (let seed = 1; seed <= 60; seed++) {
      const next = rng(seed + 1000);
      const words: number[] = [];
      for (let k = 0; k < 4000; k++) {
        const c = next() % 8;
        if (c === 0) words.push(encode('csrrw', { rd: next() % 32, rs1: next() % 32, csr: csrs[next() % csrs.length] }));
        else if (c === 1) words.push(encode('mret'));
        else if (c === 2) words.push(encode('sret'));
        else if (c === 3) words.push(encode('sfence.vma', { rs1: next() % 32, rs2: 0 }));
        else words.push(next() | 0);
      }
      const img = new Uint8Array(words.length * 4);
      words.forEach((w, i) => new DataView(img.buffer).setUint32(i * 4, w >>> 0, true));
      core.writeRam(RAM, img);
      core.reset(RAM);
      for (let i = 1; i < 32; i++) core.setX(i, BigInt(next()) * BigInt(next()) * (i % 3 === 0 ? 1n : 0x1_0000n));
      expect(() => core.run(100_000)).not.toThrow();
    }
  });

  it('page tables pointing at MMIO, beyond RAM and at themselves fault, never escape RAM', async () => {
    const core = await Core.create(1 << 20);
    const next = rng(7);
    let faults = 0n;
    for (let round = 0; round < 40; round++) {
      // root table at RAM+64K filled with random PTEs (valid bit forced on half of them)
      const root = new Uint8Array(4096);
      const dv = new DataView(root.buffer);
      for (let i = 0; i < 512; i++) {
        const hi = BigInt(next()) & 0x3f_ffffn, lo = BigInt(next());
        dv.setBigUint64(i * 8, (hi << 32n) | lo | (i % 2 ? 1n : 0n), true);
      }
      dv.setBigUint64(8 * 7, ((RAM + 0x10000n) >> 12n << 10n) | 1n, true); // points at itself
      core.writeRam(RAM + 0x10000n, root);
      core.reset(RAM);
      core.writeRam(RAM, (() => {
        const w = [
          encode('addi', { rd: 5, rs1: 0, imm: -1 }), encode('csrrw', { rd: 0, rs1: 5, csr: 0x3b0 }),
          encode('addi', { rd: 5, rs1: 0, imm: 0x1f }), encode('csrrw', { rd: 0, rs1: 5, csr: 0x3a0 }),
          encode('csrrw', { rd: 0, rs1: 6, csr: 0x180 }), // satp from t1
          encode('addi', { rd: 5, rs1: 0, imm: 1 }), encode('slli', { rd: 5, rs1: 5, imm: 11 }),
          encode('csrrs', { rd: 0, rs1: 5, csr: 0x300 }), // mstatus.MPP = S
          encode('csrrw', { rd: 0, rs1: 7, csr: 0x341 }), encode('mret'),
        ];
        const b = new Uint8Array(w.length * 4);
        w.forEach((x, i) => new DataView(b.buffer).setUint32(i * 4, x >>> 0, true));
        return b;
      })());
      core.setX(6, (8n << 60n) | ((RAM + 0x10000n) >> 12n));
      core.setX(7, BigInt(next()) << BigInt(next() % 30));
      expect(() => core.run(50_000)).not.toThrow();
      const exc = core.stats().exceptionsByCause;
      faults += exc[1] + exc[12] + exc[13] + exc[15];
      // whatever the tables say, the trap handler (mtvec = 0) is not RAM: the hart keeps
      // faulting in M-mode rather than reaching anything outside guest RAM
    }
    expect(faults).toBeGreaterThan(40n);
  });
});

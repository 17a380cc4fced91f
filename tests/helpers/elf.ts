// Writes a minimal ELF64 RISC-V executable (one PT_LOAD segment), for loader and CLI tests.
export function makeElf(code: Uint8Array, base = 0x8000_0000n, entry = base, opts: { machine?: number; class?: number } = {}): Uint8Array {
  const ehsize = 64, phsize = 56;
  const out = new Uint8Array(ehsize + phsize + code.length);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, opts.class ?? 2, 1, 1]);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, opts.machine ?? 243, true); // EM_RISCV
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, entry, true);
  dv.setBigUint64(32, BigInt(ehsize), true); // e_phoff
  dv.setUint16(52, ehsize, true);
  dv.setUint16(54, phsize, true);
  dv.setUint16(56, 1, true);
  const p = ehsize;
  dv.setUint32(p, 1, true); // PT_LOAD
  dv.setUint32(p + 4, 7, true);
  dv.setBigUint64(p + 8, BigInt(ehsize + phsize), true);
  dv.setBigUint64(p + 16, base, true);
  dv.setBigUint64(p + 24, base, true);
  dv.setBigUint64(p + 32, BigInt(code.length), true);
  dv.setBigUint64(p + 40, BigInt(code.length), true);
  out.set(code, ehsize + phsize);
  return out;
}

// ELF64 loader (System V gABI; RISC-V psABI: EM_RISCV = 243, little-endian).
// Loads PT_LOAD segments at their physical addresses, as QEMU does for -kernel ELF files.

export class LoadError extends Error {}

export interface ElfSegment {
  paddr: bigint;
  vaddr: bigint;
  data: Uint8Array;
  /** p_memsz: bytes beyond data.length are zero */
  memsz: bigint;
}

export interface ElfImage {
  entry: bigint;
  segments: ElfSegment[];
  /** symbol table, if present (name -> value) */
  symbols: Map<string, bigint>;
}

const PT_LOAD = 1;
const SHT_SYMTAB = 2;
const EM_RISCV = 243;

export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** Parse an ELF64 RISC-V executable; throws LoadError with a one-line reason. */
export function parseElf(bytes: Uint8Array, name = 'ELF file'): ElfImage {
  if (!isElf(bytes)) throw new LoadError(`${name}: not an ELF file (bad magic)`);
  if (bytes.length < 64) throw new LoadError(`${name}: truncated ELF header (${bytes.length} bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[4] !== 2) throw new LoadError(`${name}: not a 64-bit ELF (EI_CLASS ${bytes[4]}); wasmvisor runs RV64 only`);
  if (bytes[5] !== 1) throw new LoadError(`${name}: not little-endian (EI_DATA ${bytes[5]})`);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_RISCV) throw new LoadError(`${name}: not a RISC-V ELF (e_machine ${machine})`);
  const type = dv.getUint16(16, true);
  if (type !== 2 && type !== 3) throw new LoadError(`${name}: not an executable (e_type ${type})`);
  const entry = dv.getBigUint64(24, true);
  const phoff = Number(dv.getBigUint64(32, true));
  const shoff = Number(dv.getBigUint64(40, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  const shentsize = dv.getUint16(58, true);
  const shnum = dv.getUint16(60, true);
  if (phnum === 0) throw new LoadError(`${name}: no program headers`);
  if (phoff + phnum * phentsize > bytes.length || phentsize < 56)
    throw new LoadError(`${name}: program headers lie outside the file`);
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (dv.getUint32(o, true) !== PT_LOAD) continue;
    const offset = Number(dv.getBigUint64(o + 8, true));
    const vaddr = dv.getBigUint64(o + 16, true);
    const paddr = dv.getBigUint64(o + 24, true);
    const filesz = Number(dv.getBigUint64(o + 32, true));
    const memsz = dv.getBigUint64(o + 40, true);
    if (offset + filesz > bytes.length) throw new LoadError(`${name}: segment ${i} lies outside the file`);
    if (BigInt(filesz) > memsz) throw new LoadError(`${name}: segment ${i} has p_filesz > p_memsz`);
    segments.push({ paddr, vaddr, data: bytes.subarray(offset, offset + filesz), memsz });
  }
  if (segments.length === 0) throw new LoadError(`${name}: no loadable segments`);
  return { entry, segments, symbols: readSymbols(bytes, dv, shoff, shentsize, shnum) };
}

function readSymbols(bytes: Uint8Array, dv: DataView, shoff: number, shentsize: number, shnum: number): Map<string, bigint> {
  const out = new Map<string, bigint>();
  if (shoff === 0 || shnum === 0 || shoff + shnum * shentsize > bytes.length) return out;
  for (let i = 0; i < shnum; i++) {
    const s = shoff + i * shentsize;
    if (dv.getUint32(s + 4, true) !== SHT_SYMTAB) continue;
    const off = Number(dv.getBigUint64(s + 24, true));
    const size = Number(dv.getBigUint64(s + 32, true));
    const link = dv.getUint32(s + 40, true);
    if (link >= shnum || off + size > bytes.length) continue;
    const strOff = Number(dv.getBigUint64(shoff + link * shentsize + 24, true));
    const dec = new TextDecoder();
    for (let e = off; e + 24 <= off + size; e += 24) {
      const nameOff = dv.getUint32(e, true);
      let end = strOff + nameOff;
      while (end < bytes.length && bytes[end] !== 0) end++;
      const sym = dec.decode(bytes.subarray(strOff + nameOff, end));
      if (sym) out.set(sym, dv.getBigUint64(e + 8, true));
    }
  }
  return out;
}

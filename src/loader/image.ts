// The RISC-V Linux kernel `Image` header (Linux Documentation/arch/riscv/boot-image-header.rst):
//   0 code0 u32 | 4 code1 u32 | 8 text_offset u64 | 16 image_size u64 | 24 flags u64
//  32 version u32 | 36 res1 u32 | 40 res2 u64 | 48 magic "RISCV\0\0\0" (deprecated) | 56 magic2 "RSC\x05"
import { LoadError } from './elf.js';

export interface LinuxImage {
  /** where the image wants to sit, relative to the start of RAM (2 MiB on RV64) */
  textOffset: bigint;
  /** bytes of memory the kernel occupies from its load address, including bss */
  imageSize: bigint;
  /** header version (major << 16 | minor) */
  version: number;
}

const HEADER_SIZE = 64;
const MAGIC2 = 0x0552_5343; // "RSC\x05" little-endian
const MAGIC = 'RISCV\0\0\0';

export function isLinuxImage(bytes: Uint8Array): boolean {
  if (bytes.length < HEADER_SIZE) return false;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  return dv.getUint32(56, true) === MAGIC2 || new TextDecoder().decode(bytes.subarray(48, 56)) === MAGIC;
}

/** A compressed kernel (vmlinuz.gz, Image.gz) cannot run: say so rather than jumping into it. */
export function rejectCompressed(bytes: Uint8Array, name = 'kernel'): void {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b)
    throw new LoadError(`${name}: a gzip-compressed kernel; decompress it first (gunzip) — wasmvisor loads the flat Image`);
}

/** Parse and check the header; throws LoadError with a one-line reason. */
export function parseLinuxImage(bytes: Uint8Array, name = 'kernel'): LinuxImage {
  rejectCompressed(bytes, name);
  if (!isLinuxImage(bytes)) throw new LoadError(`${name}: not a RISC-V Linux Image (no "RSC\\x05" magic at offset 56)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  const textOffset = dv.getBigUint64(8, true);
  let imageSize = dv.getBigUint64(16, true);
  const version = dv.getUint32(32, true);
  if (textOffset % 0x1000n !== 0n || textOffset > 1n << 30n)
    throw new LoadError(`${name}: implausible text_offset 0x${textOffset.toString(16)} in the Image header`);
  // header version 0.1 and older may leave image_size 0 (then: the file's size)
  if (imageSize === 0n) imageSize = BigInt(bytes.length);
  if (imageSize < BigInt(bytes.length))
    throw new LoadError(`${name}: image_size ${imageSize} in the header is smaller than the file (${bytes.length} bytes)`);
  return { textOffset, imageSize, version };
}

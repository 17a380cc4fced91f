// Small S-mode guest kernels for machine tests: a Linux-style Image around a program, and
// SBI calls (SBI spec: a7 = extension, a6 = function, a0.. = arguments).
import { Program, R } from './program.js';

export const KERNEL_PA = 0x8020_0000n;
export const SRST = 0x53525354;
export const DBCN = 0x4442434e;
export const TIME = 0x54494d45;

/** A Linux-style Image: the 64-byte header (code0 jumps over it), then `body`. */
export function linuxImage(body: (p: Program) => void, imageSize = 0n): Uint8Array {
  const p = new Program(KERNEL_PA);
  p.i('jal', { rd: 0 }, 'start');
  const header = new Uint8Array(60);
  const dv = new DataView(header.buffer);
  // fields from offset 4 (after code0): code1, text_offset, image_size, flags, version, res, res, magic, magic2
  dv.setBigUint64(4, 0x20_0000n, true);
  dv.setBigUint64(12, imageSize, true);
  dv.setUint32(28, 2, true);
  header.set(new TextEncoder().encode('RISCV\0\0\0'), 44);
  header.set(new TextEncoder().encode('RSC\x05'), 52);
  p.bytes(header).label('start');
  body(p);
  return p.assemble();
}

export const sbi = (p: Program, eid: number, fid: number, ...args: (number | bigint)[]) => {
  args.forEach((v, i) => p.li(R.a0 + i, v));
  return p.li(R.a7, eid).li(R.a6, fid).i('ecall');
};
export const putc = (p: Program, ch: string) => sbi(p, DBCN, 2, ch.charCodeAt(0));

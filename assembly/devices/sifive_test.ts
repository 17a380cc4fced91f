// SiFive test device (QEMU virt: 0x0010_0000): a 32-bit write of 0x5555 powers off,
// 0x3333 | code << 16 powers off with a failure code, 0x7777 resets.
import { requestExit } from '../exit';
import { EXIT_POWEROFF, EXIT_FAIL, EXIT_RESET } from '../memmap';

export const TEST_BASE: u64 = 0x0010_0000;
export const TEST_SIZE: u64 = 0x1000;

export function testWrite(off: u32, v: u64): void {
  if (off != 0) return;
  const code = <u32>v & 0xffff;
  const status = <u32>(v >> 16) & 0xffff;
  if (code == 0x5555) requestExit(EXIT_POWEROFF, status);
  else if (code == 0x3333) requestExit(EXIT_FAIL, status);
  else if (code == 0x7777) requestExit(EXIT_RESET, 0);
}

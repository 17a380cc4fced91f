// Guest RAM: ramSize bytes of guest physical memory from RAM_PHYS, at RAM_BASE in linear memory.
export let ramSize: u64 = 0;

export function setRamSize(bytes: u64): void {
  ramSize = bytes;
}

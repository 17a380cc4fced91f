// Byte rings shared with the host: [head u32][tail u32][RING_SIZE bytes]. The producer
// advances head, the consumer tail; both are free-running byte counts.
import { RING_SIZE } from '../memmap';

@inline export function ringUsed(ring: u32): u32 {
  return load<u32>(ring) - load<u32>(ring, 4);
}

export function ringPush(ring: u32, b: u8): bool {
  const head = load<u32>(ring);
  if (head - load<u32>(ring, 4) >= RING_SIZE) return false;
  store<u8>(ring + 8 + head % RING_SIZE, b);
  store<u32>(ring, head + 1);
  return true;
}

/** Next byte, or -1 if the ring is empty. */
export function ringPop(ring: u32): i32 {
  const tail = load<u32>(ring, 4);
  if (tail == load<u32>(ring)) return -1;
  const b = load<u8>(ring + 8 + tail % RING_SIZE);
  store<u32>(ring, tail + 1, 4);
  return b;
}

export function ringReset(ring: u32): void {
  store<u32>(ring, 0);
  store<u32>(ring, 0, 4);
}

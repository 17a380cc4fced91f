// Instructions retired, and the bound the interpreter loop runs to. Anything that may make
// an interrupt pending or enabled calls requestStop(), so the loop re-checks before the
// next instruction (privileged spec 3.1.9: interrupts are taken at instruction boundaries).
export let instret: u64 = 0;
export let stopAt: u64 = 0;

@inline export function instretNow(): u64 {
  return instret;
}

/** An instruction a VMM emulated after it trapped has retired (vmm/full.ts). */
export function retire(): void {
  instret++;
}

@inline export function requestStop(): void {
  stopAt = 0;
}

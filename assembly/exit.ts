// Why run() stops early: a device or the hart asks for the host's attention.
import { requestStop } from './hart/counters';
import { EXIT_BUDGET, EXIT_JIT } from './memmap';

export let exitReason: u32 = EXIT_BUDGET;
export let exitValue: u32 = 0;

export function requestExit(reason: u32, value: u32): void {
  if (exitReason == EXIT_BUDGET || exitReason == EXIT_JIT) {
    exitReason = reason;
    exitValue = value;
  }
  requestStop();
}

export function clearExit(): void {
  exitReason = EXIT_BUDGET;
  exitValue = 0;
}

// Types of bench/workloads.js (plain JS so `node bench/*.js` runs without a build step).
export const DATA: bigint;
export const DATA_PAGES: number;
export const RAM_BYTES: bigint;
/** Workload name -> the function that writes its loop. */
export const WORKLOADS: Record<string, unknown>;
/** The bare image of a workload running `iterations` times (0 = practically forever). */
export function buildImage(name: string, iterations: number): Uint8Array;

// Messages between the page (main.ts) and the worker that owns the Machine (worker.ts).
import type { MachineType, StopReason } from '../src/machine.js';

/** Where the Linux guest files (npm run guests:linux) are, relative to the page and worker. */
export const LINUX_GUEST_DIR = '../build/guests/linux/';

export type GuestKind = 'linux' | 'bare';

export interface StartConfig {
  guest: GuestKind;
  type: MachineType;
  /** '256M', '1G'… (parseSize) */
  memory: string;
  /** kernel command line (Linux only) */
  append: string;
  /** attach build/guests/linux/disk.ext4 (Linux only) */
  disk: boolean;
  /** guest writes go to a copy-on-write overlay in memory; otherwise the disk is read-only */
  diskWritable: boolean;
}

/** The counters the page shows, as numbers (structured clone and the DOM want no bigints). */
export interface Counters {
  instret: number;
  /** million instructions per second: while running over the last interval, else the average */
  mips: number;
  traps: number;
  interrupts: number;
  tlbMisses: number;
  pageWalks: number;
  sbiCalls: number;
  mmioExits: number;
  /** requests completed by all virtio devices */
  virtioRequests: number;
  /** wall-clock seconds the machine has been running (pauses excluded) */
  seconds: number;
}

export type MachineState = 'loading' | 'running' | 'paused' | 'stopped';

export type ToWorker =
  | { kind: 'start'; config: StartConfig }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'stop' }
  | { kind: 'input'; data: string };

export type FromWorker =
  | { kind: 'state'; state: MachineState; detail?: string }
  | { kind: 'console'; data: Uint8Array }
  | { kind: 'counters'; counters: Counters }
  /** the machine ended: run() returned, or it could not be built */
  | { kind: 'exit'; reason: StopReason | 'failed-to-start'; status: number; message?: string };

// `wasmvisor run --type kvm` from the host's side: the VM is its own process, a worker running
// the userspace VMM (vmm.ts) over the kernel (kernel.ts); this thread only relays the console
// and receives the result. Several at once run in parallel, each worker on its own host core.
import { spawnWorker } from './kvm.js';
import type { VmmResult, VmmWorkerConfig, VmmWorkerMessage } from './vmm.js';

export type KvmMachineConfig = VmmWorkerConfig;

export class KvmMachine {
  private readonly listeners: ((b: Uint8Array) => void)[] = [];
  private readonly pendingInput: Uint8Array[] = [];
  private ready = false;
  private ended = false;
  private port?: Awaited<ReturnType<typeof spawnWorker>>;
  private done?: Promise<VmmResult>;

  constructor(private readonly cfg: KvmMachineConfig) {}

  onConsole(fn: (b: Uint8Array) => void): void {
    this.listeners.push(fn);
  }

  /** Start the VM's worker and resolve with the result when the guest stops. */
  run(): Promise<VmmResult> {
    this.done ??= (async () => {
      const port = await spawnWorker();
      this.port = port;
      return await new Promise<VmmResult>((resolve, reject) => {
        let settled = false;
        port.onMessage((raw) => {
          const m = raw as VmmWorkerMessage;
          if (m.type === 'console') for (const fn of this.listeners) fn(m.bytes);
          else if (m.type === 'ready') {
            this.ready = true;
            for (const b of this.pendingInput.splice(0)) port.postMessage({ op: 'console', args: [b] });
            if (this.ended) port.postMessage({ op: 'endInput', args: [] });
          } else if (m.type === 'result') { settled = true; resolve(m.result); void port.terminate(); }
          else if (m.type === 'error') { settled = true; reject(new KvmMachineError(m.message)); void port.terminate(); }
        });
        port.onError((e) => { if (!settled) { settled = true; reject(new KvmMachineError(`the VM's worker failed: ${e.message}`)); } });
        port.postMessage({ op: 'vmm', args: [this.cfg] });
      });
    })();
    return this.done;
  }

  sendConsole(b: Uint8Array | string): void {
    const bytes = typeof b === 'string' ? new TextEncoder().encode(b) : b;
    if (this.ready) this.port!.postMessage({ op: 'console', args: [bytes] });
    else this.pendingInput.push(bytes);
  }

  endInput(): void {
    this.ended = true;
    if (this.ready) this.port!.postMessage({ op: 'endInput', args: [] });
  }

  stop(): void {
    this.port?.postMessage({ op: 'stop', args: [] });
  }
}

/** The VM could not be set up (bad kernel, too little memory...) or its worker died. */
export class KvmMachineError extends Error {
  override name = 'KvmMachineError';
}

// A VM's worker (its "host process"): either the kernel side of a Vm whose userspace is the
// thread that created it (messages are the ioctls: kvm.ts WorkerChannel), or, for
// `wasmvisor run --type kvm`, the whole VM: the userspace VMM (vmm.ts) with the kernel inline.
import { KvmKernel, hostNow, hostThreadId, type RunTiming } from './kernel.js';
import type { KvmExit } from './uapi.js';
import { KvmError } from './uapi.js';
import { runVmmInWorker } from './vmm.js';

let kernel: KvmKernel | undefined;

/** The kernel's calls a Vm may make (kernel.ts). */
const KERNEL_CALLS = new Set([
  'setUserMemoryRegion', 'getDirtyLog', 'createVcpu', 'getOneReg', 'setOneReg', 'irqLine', 'readUser', 'writeUser',
  'advanceTime', 'ticksToNextTimer', 'stats',
]);

const ops: Record<string, (...a: never[]) => unknown> = {
  async createVm(opts: { memory?: bigint; jit?: boolean }) {
    if (kernel) throw new KvmError('EEXIST', 'this worker has a VM already');
    kernel = await KvmKernel.createVm(opts);
    return { hostThread: await hostThreadId() };
  },
  runVcpu(response: Parameters<KvmKernel['respond']>[0], opts: Parameters<KvmKernel['run']>[0]): { exit: KvmExit; timing: RunTiming } {
    const k = need();
    k.respond(response);
    const start = hostNow();
    const exit = k.run(opts);
    return { exit, timing: { start, end: hostNow() } };
  },
};

function need(): KvmKernel {
  if (!kernel) throw new KvmError('EBADF', 'no VM in this worker');
  return kernel;
}

/** The channel to the thread that started this worker: Node's parentPort, or a Web Worker's own scope. */
interface ParentPort {
  postMessage(m: unknown): void;
  on(ev: 'message', fn: (m: { id: number; op: string; args: unknown[] }) => void): void;
}
async function parent(): Promise<ParentPort> {
  if (typeof process !== 'undefined' && process.versions?.node) {
    const { parentPort } = await import('node:worker_threads');
    if (!parentPort) throw new Error('kvm-worker: not started as a worker thread');
    return parentPort as unknown as ParentPort;
  }
  const scope = globalThis as unknown as { postMessage(m: unknown): void; addEventListener(t: 'message', fn: (e: MessageEvent) => void): void };
  if (typeof scope.addEventListener !== 'function') throw new Error('kvm-worker: not started as a worker');
  return {
    postMessage: (m) => scope.postMessage(m),
    on: (_ev, fn) => scope.addEventListener('message', (e) => fn(e.data)),
  };
}
/** Answer the ioctls (or run the whole VMM) for the thread that started this worker. */
function serve(port: ParentPort): void {
  port.on('message', async (m: { id: number; op: string; args: unknown[]; vmm?: unknown }) => {
    if (m.op === 'vmm') {
      runVmmInWorker(port, m.args[0] as Parameters<typeof runVmmInWorker>[1]);
      return;
    }
    if (m.op === 'console' || m.op === 'endInput' || m.op === 'stop') return; // for the VMM mode only
    try {
      let value: unknown;
      const op = ops[m.op];
      if (op) value = await (op as (...a: unknown[]) => unknown)(...m.args);
      else if (KERNEL_CALLS.has(m.op)) {
        const k = need() as unknown as Record<string, (...a: unknown[]) => unknown>;
        value = k[m.op].apply(kernel, m.args);
      } else throw new KvmError('EINVAL', `unknown call ${m.op}`);
      port.postMessage({ id: m.id, ok: true, value });
    } catch (e) {
      const err = e as Error;
      port.postMessage(e instanceof KvmError
        ? { id: m.id, ok: false, code: e.code, message: e.detail }
        : { id: m.id, ok: false, message: `${err.name}: ${err.message}` });
    }
  });
}

// (no top-level await: the bundle is also built as CommonJS); a failure here is the worker's error
void parent().then(serve);

// The Web Worker that owns the Machine: the core runs here, never on the page's thread.
// It builds the machine from a StartConfig, streams the console, and posts the counters.
import { createMachine, ConfigError, type Machine, type MachineOptions, type MachineStats } from '../src/machine.js';
import { UrlBackend } from '../src/devices/virtio/index.js';
import { Program, R, RAM } from '../src/isa/assembler.js';
import { LINUX_GUEST_DIR, type Counters, type FromWorker, type StartConfig, type ToWorker } from './protocol.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

// Machine.run() yields between slices with setImmediate where there is one, else with
// setTimeout(0), which browsers clamp to 4 ms once nested (~1.5 s of a Linux boot): give the
// worker a setImmediate made of a MessageChannel.
if (typeof setImmediate !== 'function') {
  const channel = new MessageChannel();
  const queue: (() => void)[] = [];
  channel.port1.onmessage = () => queue.shift()?.();
  Object.assign(scope, { setImmediate: (fn: () => void) => (queue.push(fn), channel.port2.postMessage(0)) });
}

const STATS_MS = 500;
const CONSOLE_MS = 15;

let machine: Machine | undefined;
let started = false;
let running = false;
let stopRequested = false;

// Console output is batched into one message per CONSOLE_MS.
let outChunks: Uint8Array[] = [];
let outTimer: ReturnType<typeof setTimeout> | undefined;
function flushConsole(): void {
  clearTimeout(outTimer);
  outTimer = undefined;
  if (!outChunks.length) return;
  const data = new Uint8Array(outChunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of outChunks) (data.set(c, at), (at += c.length));
  outChunks = [];
  post({ kind: 'console', data }, [data.buffer]);
}
function onConsole(b: Uint8Array): void {
  outChunks.push(b.slice()); // a copy: the chunk may be a view of guest memory
  outTimer ??= setTimeout(flushConsole, CONSOLE_MS);
}

// Wall time spent in run(): stats().seconds only advances when the hart waits or stops.
let runWall = 0;
let runSince: number | undefined;
let last = { instret: 0, at: 0 };
function postCounters(): void {
  if (!machine) return;
  const s: MachineStats = machine.stats();
  const instret = Number(s.instret);
  const now = performance.now();
  const seconds = (runWall + (runSince === undefined ? 0 : now - runSince)) / 1000;
  // while running: over the last interval; afterwards: the average
  const mips = runSince === undefined
    ? (seconds > 0 ? instret / seconds / 1e6 : 0)
    : (now > last.at ? (instret - last.instret) / (now - last.at) / 1000 : 0);
  last = { instret, at: now };
  const counters: Counters = {
    instret, mips,
    traps: Number(s.traps),
    interrupts: Number(s.interrupts),
    tlbMisses: Number(s.tlbMisses),
    pageWalks: Number(s.pageWalks),
    sbiCalls: Number(s.sbiCalls),
    mmioExits: Number(s.mmioExits),
    virtioRequests: s.devices.reduce((n, d) => n + d.requests, 0),
    seconds,
  };
  post({ kind: 'counters', counters });
}

const guestUrl = (name: string) => new URL(LINUX_GUEST_DIR + name, scope.location.href);

/** A Linux guest file, with a message that says what to do when it is missing. */
async function guestFile(name: string, method: 'GET' | 'HEAD' = 'GET'): Promise<Response> {
  const url = guestUrl(name);
  const r = await fetch(url, { method });
  if (r.status === 404)
    throw new Error(`the Linux guest files are missing (${url.pathname}: HTTP 404): run \`npm run guests:linux\`, then Start again`);
  if (!r.ok) throw new Error(`cannot fetch ${url.pathname}: HTTP ${r.status}`);
  return r;
}

async function linuxOptions(c: StartConfig): Promise<MachineOptions> {
  const bytes = async (name: string) => new Uint8Array(await (await guestFile(name)).arrayBuffer());
  const [kernel, initrd, diskSize] = await Promise.all([
    bytes('Image'),
    bytes('initramfs.cpio.gz'),
    c.disk ? guestFile('disk.ext4', 'HEAD').then((r) => Number(r.headers.get('content-length'))) : undefined,
  ]);
  // the disk stays on the server: the guest's reads become HTTP Range requests
  const drives = diskSize === undefined ? [] : [{
    backend: await UrlBackend.open(guestUrl('disk.ext4').href, { size: diskSize }),
    snapshot: c.diskWritable,
    readOnly: !c.diskWritable,
  }];
  return { kernel, initrd, append: c.append, drives };
}

/** The bare-metal demo: print a line through the SBI debug console, count, power off. */
function bareDemo(): Uint8Array {
  const text = new TextEncoder().encode('wasmvisor bare-metal demo: hello from S-mode, counting to 10 million...\r\n');
  const done = new TextEncoder().encode('wasmvisor bare-metal demo: done, powering off\r\n');
  const SBI_DBCN = 0x4442_434e, SBI_SRST = 0x5352_5354;
  // raw binaries are loaded 2 MiB into RAM (createMachine, bios 'host')
  const p = new Program(RAM + 0x20_0000n);
  const print = (label: string, len: number) =>
    p.la(R.a1, label).li(R.a0, len).li(R.a2, 0).li(R.a6, 0).li(R.a7, SBI_DBCN).i('ecall');
  print('text', text.length);
  p.li(R.t0, 10_000_000).label('loop').i('addi', { rd: R.t0, rs1: R.t0, imm: -1 }).i('bne', { rs1: R.t0, rs2: 0 }, 'loop');
  print('done', done.length);
  p.li(R.a0, 0).li(R.a1, 0).li(R.a6, 0).li(R.a7, SBI_SRST).i('ecall'); // shutdown, no reason
  p.label('hang').i('jal', { rd: 0 }, 'hang');
  p.label('text').bytes(text).label('done').bytes(done);
  return p.assemble();
}

async function start(c: StartConfig): Promise<void> {
  post({ kind: 'state', state: 'loading', detail: c.guest === 'linux' ? 'fetching the guest files…' : 'assembling…' });
  const guest: MachineOptions = c.guest === 'linux' ? await linuxOptions(c) : { kernel: bareDemo() };
  machine = await createMachine({ ...guest, type: c.type, memory: c.memory, onConsole });
  if (stopRequested) machine.stop();
  setInterval(postCounters, STATS_MS);
  await run();
}

async function run(): Promise<void> {
  if (!machine || running) return;
  running = true;
  post({ kind: 'state', state: 'running' });
  runSince = last.at = performance.now();
  const r = await machine.run().finally(() => {
    running = false;
    runWall += performance.now() - runSince!;
    runSince = undefined;
  });
  flushConsole();
  postCounters();
  if (r.reason === 'paused') post({ kind: 'state', state: 'paused' });
  else finish({ kind: 'exit', reason: r.reason, status: r.status, message: r.message });
}

function finish(exit: Extract<FromWorker, { kind: 'exit' }>): void {
  post({ kind: 'state', state: 'stopped' });
  post(exit);
}

function fail(e: unknown): void {
  flushConsole();
  const err = e as Error;
  const message = err instanceof ConfigError ? `configuration error: ${err.message}` : (err?.message ?? String(e));
  finish({ kind: 'exit', reason: machine ? 'error' : 'failed-to-start', status: 1, message });
}

scope.onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  switch (m.kind) {
    case 'start':
      if (!started) start(m.config).catch(fail);
      started = true;
      break;
    case 'pause': machine?.pause(); break;
    case 'resume': run().catch(fail); break;
    case 'stop':
      stopRequested = true;
      machine?.stop();
      run().catch(fail); // when paused: run() returns 'stopped' at once
      break;
    case 'input': machine?.sendConsole(m.data); break;
  }
};

// The page: an xterm.js terminal on the guest console, the machine form and the counters.
// The Machine lives in a Web Worker (worker.ts), a fresh one for every Start.
import { Terminal } from '@xterm/xterm';
import { MACHINE_TYPES, type MachineType } from '../src/machine.js';
import type { Counters, FromWorker, GuestKind, MachineState, StartConfig, ToWorker } from './protocol.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('config');
const guest = $<HTMLSelectElement>('guest');
const type = $<HTMLSelectElement>('type');
const memory = $<HTMLInputElement>('memory');
const linuxOptions = $<HTMLFieldSetElement>('linux-options');
const append = $<HTMLInputElement>('append');
const disk = $<HTMLInputElement>('disk');
const diskWritable = $<HTMLInputElement>('disk-writable');
const startButton = $<HTMLButtonElement>('start');
const pauseButton = $<HTMLButtonElement>('pause');
const stopButton = $<HTMLButtonElement>('stop');
const message = $<HTMLDivElement>('message');
const status = $<HTMLDivElement>('status');

const term = new Terminal({ cols: 100, rows: 32, scrollback: 10_000, fontFamily: 'monospace', fontSize: 13 });
term.open($('terminal'));

// machine types: the unimplemented ones are listed, disabled, with their summary as tooltip;
// so is kvm, whose VMs are Web Workers of their own (the page's worker runs createMachine())
for (const [name, info] of Object.entries(MACHINE_TYPES)) {
  const onPage = info.implemented && name !== 'kvm';
  const o = new Option(onPage ? name : `${name} (${info.implemented ? 'API only: src/kvm' : 'not implemented'})`, name);
  o.title = info.summary;
  o.disabled = !onPage;
  type.add(o);
}

// the counters panel: one row per counter
const count = (v: number) => v.toLocaleString('en-US');
const decimal = (v: number) => v.toFixed(1);
const COUNTERS: [keyof Counters, string, (v: number) => string][] = [
  ['instret', 'instructions', count],
  ['mips', 'MIPS', decimal],
  ['seconds', 'seconds', decimal],
  ['traps', 'traps', count],
  ['interrupts', 'interrupts', count],
  ['tlbMisses', 'TLB misses', count],
  ['pageWalks', 'page walks', count],
  ['sbiCalls', 'SBI calls', count],
  ['mmioExits', 'MMIO exits', count],
  ['virtioRequests', 'virtio requests', count],
];
const cells = new Map<keyof Counters, HTMLTableCellElement>();
const tbody = $<HTMLTableElement>('counters').tBodies[0];
for (const [key, label] of COUNTERS) {
  const row = tbody.insertRow();
  row.insertCell().outerHTML = `<th>${label}</th>`;
  const cell = row.insertCell();
  cell.id = `counter-${key}`;
  cells.set(key, cell);
}
function showCounters(c?: Counters): void {
  for (const [key, , format] of COUNTERS) {
    const cell = cells.get(key)!;
    cell.dataset.value = String(c?.[key] ?? 0);
    cell.textContent = c ? format(c[key]) : '–';
  }
}
showCounters();

type Exit = Extract<FromWorker, { kind: 'exit' }>;
let worker: Worker | undefined;
let state: MachineState = 'stopped';
let startedAt = 0;
const send = (m: ToWorker) => worker?.postMessage(m);

/** For tests and curious users: window.wasmvisor. */
const exposed = { term, text, state: () => state, lastExit: undefined as Exit | undefined };
(window as unknown as { wasmvisor: typeof exposed }).wasmvisor = exposed;

/** The terminal's text, wrapped lines joined. */
function text(): string {
  const buf = term.buffer.active;
  let out = '';
  for (let i = 0; i < buf.length; i++) {
    const line = buf.getLine(i)!;
    out += (i > 0 && !line.isWrapped ? '\n' : '') + line.translateToString(true);
  }
  return out;
}

/** The red box above the terminal; '' hides it. */
function showError(text: string): void {
  message.textContent = text;
  message.hidden = !text;
}

function setState(s: MachineState, detail?: string): void {
  state = s;
  const live = s !== 'stopped';
  startButton.disabled = live;
  stopButton.disabled = !live;
  pauseButton.disabled = s !== 'running' && s !== 'paused';
  pauseButton.textContent = s === 'paused' ? 'Resume' : 'Pause';
  for (const el of [guest, type, memory]) el.disabled = live;
  linuxOptions.disabled = live || guest.value !== 'linux';
  if (s !== 'stopped') status.textContent = detail ? `${s}: ${detail}` : s;
}

function onExit(e: Exit): void {
  const after = `after ${((performance.now() - startedAt) / 1000).toFixed(1)} s`;
  switch (e.reason) {
    case 'poweroff': status.textContent = `The guest powered off (status ${e.status}) ${after}.`; break;
    case 'fail': status.textContent = `The guest reported a failure (status ${e.status}) ${after}.`; break;
    case 'reset': status.textContent = `The guest reset the machine ${after}; press Start to boot again.`; break;
    case 'stopped': status.textContent = `Stopped ${after}.`; break;
    case 'idle': status.textContent = `The guest waits for an interrupt that cannot come (idle) ${after}.`; break;
    case 'limit': status.textContent = `Instruction limit reached ${after}.`; break;
    case 'error':
      status.textContent = `The machine stopped with an error ${after}.`;
      showError(`The machine stopped with an error: ${e.message}`);
      break;
    case 'failed-to-start':
      status.textContent = 'The machine could not start.';
      showError(`Cannot start the machine: ${e.message}`);
      break;
    case 'paused': break; // not an exit
  }
  exposed.lastExit = e;
  worker?.terminate(); // frees the guest's memory
  worker = undefined;
}

function onMessage(m: FromWorker): void {
  switch (m.kind) {
    case 'state': setState(m.state, m.detail); break;
    case 'console': term.write(m.data); break;
    case 'counters': showCounters(m.counters); break;
    case 'exit': onExit(m); break;
  }
}

function config(): StartConfig {
  return {
    guest: guest.value as GuestKind,
    type: type.value as MachineType,
    memory: memory.value,
    append: append.value,
    disk: disk.checked,
    diskWritable: diskWritable.checked,
  };
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (worker) return;
  showError('');
  showCounters();
  term.reset();
  startedAt = performance.now();
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'wasmvisor' });
  worker.onmessage = (ev: MessageEvent<FromWorker>) => onMessage(ev.data);
  worker.onerror = (ev) => {
    ev.preventDefault();
    onExit({ kind: 'exit', reason: 'failed-to-start', status: 1, message: `the worker failed: ${ev.message || 'it could not be loaded'}` });
    setState('stopped');
  };
  setState('loading');
  send({ kind: 'start', config: config() });
  term.focus();
});
pauseButton.addEventListener('click', () => send({ kind: state === 'paused' ? 'resume' : 'pause' }));
stopButton.addEventListener('click', () => send({ kind: 'stop' }));
guest.addEventListener('change', () => (linuxOptions.disabled = guest.value !== 'linux'));
term.onData((data) => send({ kind: 'input', data }));
setState('stopped');

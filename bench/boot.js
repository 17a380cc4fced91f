// Linux boot time: power-on to the guest's shell marker, wasmvisor beside QEMU (TCG), on the
// same Debian kernel and initramfs (npm run guests:linux), in the same run.
//
//   node bench/boot.js [--runs N] [--types T,...] [--opensbi] [--qemu-icount] [--no-quiet] [--timeout S]
//
// --runs N       boots per emulator (default 3), alternating wasmvisor and QEMU; medians.
// --types T,...  wasmvisor machine types to boot in each run (default native), e.g.
//                native,hw-assist: the same kernel on each, medians and their ratio to the
//                first type (the hw-assist issue's target: at most 1.5x native; the full
//                issue's: at most 3x). QEMU is compared with the first type. full+bt and
//                full+trace are the full machine with binary translation, with traced shadows.
// --opensbi      wasmvisor runs OpenSBI (fw_dynamic.bin of Debian's opensbi package) instead of
//                answering SBI calls on the host, as QEMU does with its default -bios.
// --qemu-icount  one more QEMU boot with -icount shift=0 (record mode, so QMP query-replay
//                reports the guest instructions retired; read at the marker). Not timed.
// --no-quiet     boot with `console=ttyS0` instead of `console=ttyS0 quiet` (both emulators).
// --timeout S    give up on a boot after S seconds (default 300).
//
// A boot is one multi-second event, not a function to sample thousands of times, so
// benchmark.js does not fit: a small fixed number of boots, and their median.
//
// wasmvisor: from just before createMachine() (core instantiation, loading kernel, initrd and
// device tree) to the console output holding the marker; the marker is seen when run() drains
// the console after a slice (at most 10M instructions late). QEMU: from spawn to its console
// output holding the marker (QEMU writes it to a temporary file, polled every 10 ms). Both
// sleep in real time while the guest idles in WFI.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createMachine, MACHINE_TYPES, MACHINE_VARIANTS, benchMachine } from '../dist/index.js';
import { QEMU, qemuVersion, qemuUntilMarker, qmp } from './qemu.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GUEST = join(ROOT, 'build/guests/linux');
const KERNEL = join(GUEST, 'Image');
const INITRD = join(GUEST, 'initramfs.cpio.gz');
const OPENSBI = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin';
const MARKER = 'wasmvisor: shell ready';
const MEMORY = '512M';
const TARGET = 2; // the issue's target: boot within 2x of QEMU
const COUNTERS = ['instret', 'traps', 'interrupts', 'tlbMisses', 'pageWalks', 'walkRefs', 'sbiCalls', 'mmioExits', 'tlbFlushes', 'icacheFlushes', 'wfi'];
const EXC = [
  'insn misaligned', 'insn access', 'illegal insn', 'breakpoint', 'load misaligned', 'load access',
  'store misaligned', 'store access', 'ecall U', 'ecall S', 'ecall HS', 'ecall M',
  'insn page fault', 'load page fault', '14', 'store page fault',
];
const IRQ = ['0', 'S soft', '2', 'M soft', '4', 'S timer', '6', 'M timer', '8', 'S ext', '10', 'M ext'];

const fail = (msg, code = 1) => {
  console.error(`bench:boot: ${msg}`);
  process.exit(code);
};

let args;
try {
  args = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      types: { type: 'string', default: 'native' },
      opensbi: { type: 'boolean', default: false },
      'qemu-icount': { type: 'boolean', default: false },
      'no-quiet': { type: 'boolean', default: false },
      timeout: { type: 'string', default: '300' },
    },
  }).values;
} catch (e) {
  fail(`${e.message} (options: --runs N, --types T,..., --opensbi, --qemu-icount, --no-quiet, --timeout S)`);
}
/** What each --types name boots: a machine type and its options (variants: src/bench.ts). */
const BOOTS = Object.fromEntries([...['native', 'hw-assist', 'full'], ...Object.keys(MACHINE_VARIANTS)].map((t) => {
  const { type, options } = benchMachine(t);
  return [t, { type, ...options }];
}));
const types = args.types.split(',').filter(Boolean);
for (const t of types)
  if (!BOOTS[t] || !MACHINE_TYPES[BOOTS[t].type]?.implemented) fail(`--types: '${t}' cannot boot Linux (${Object.keys(BOOTS).join(', ')})`);
if (types.length === 0) fail('--types: no machine type given');
if (args.opensbi && types.some((t) => t !== 'native')) fail('--opensbi: only the native machine runs firmware');
/** The issues' targets: at most this many times native's boot time. */
const TARGETS = { 'hw-assist': 1.5, full: 3, 'full+bt': 3, 'full+trace': 3 };
const runs = Number(args.runs);
if (!Number.isInteger(runs) || runs < 1) fail(`--runs wants a whole number >= 1, not '${args.runs}'`);
const timeoutMs = Number(args.timeout) * 1000;
if (!(timeoutMs > 0)) fail(`--timeout wants seconds > 0, not '${args.timeout}'`);
const append = args['no-quiet'] ? 'console=ttyS0' : 'console=ttyS0 quiet';

const progress = (s) => process.stderr.write(`[bench:boot] ${s}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const n = s.length;
  if (n % 2) return s[(n - 1) / 2];
  return typeof s[0] === 'bigint' ? (s[n / 2 - 1] + s[n / 2]) / 2n : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const sec = (x) => (x === undefined ? '-' : x.toFixed(2));
const group = (n) => BigInt(n).toLocaleString('en-US');
/** A promise for `value` after `ms`; cancel() clears the timer (which keeps node alive meanwhile). */
const after = (ms, value) => {
  let t;
  const promise = new Promise((r) => (t = setTimeout(() => r(value), ms)));
  return { promise, cancel: () => clearTimeout(t) };
};

// ---- the guest files: build them if missing (exit 3 from the script = download impossible)

async function ensureGuest() {
  if (existsSync(KERNEL) && existsSync(INITRD)) return;
  progress(`${relative(ROOT, GUEST)}/{Image,initramfs.cpio.gz} missing: running npm run guests:linux`);
  const p = spawn(process.execPath, [join(ROOT, 'scripts/guests-linux.mjs')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'pipe'] });
  let err = '';
  p.stderr.on('data', (c) => { err += c; process.stderr.write(c); });
  const code = await new Promise((resolve) => {
    p.on('error', (e) => { err += e.message; resolve(1); });
    p.on('close', resolve);
  });
  const msg = err.trim().split('\n').at(-1) ?? '';
  if (code === 3) {
    console.log(`bench:boot: cannot build the Linux guest: ${msg}`);
    process.exit(3);
  }
  if (code !== 0) fail(`npm run guests:linux failed (exit ${code}): ${msg}`);
  if (!existsSync(KERNEL) || !existsSync(INITRD)) fail('npm run guests:linux succeeded but Image or initramfs.cpio.gz is still missing');
}

// ---- one wasmvisor boot

async function bootWasmvisor(kernel, initrd, bios, type) {
  let tail = '';
  let markerAt;
  let onMarker;
  const marker = new Promise((r) => (onMarker = r));
  let m;
  const t0 = performance.now();
  m = await createMachine({
    ...BOOTS[type], memory: MEMORY, kernel, initrd, append, ...(bios ? { bios } : {}),
    onConsole: (b) => {
      if (markerAt !== undefined) return;
      tail = (tail + Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1')).slice(-8192);
      if (!tail.includes(MARKER)) return;
      markerAt = performance.now();
      m.stop(); // now: after an MMIO or console exit run() goes on without yielding
      onMarker();
    },
  });
  const t1 = performance.now();
  const running = m.run();
  const timer = after(timeoutMs, 'timeout');
  const first = await Promise.race([marker.then(() => 'marker'), running, timer.promise]);
  timer.cancel();
  // run() may settle (stopped) in the same turn the marker was seen: the marker decides
  if (markerAt === undefined) {
    m.stop();
    const last = tail.replace(/\r/g, '').trim().split('\n').at(-1) ?? '';
    if (first === 'timeout') throw new Error(`wasmvisor: no "${MARKER}" within ${timeoutMs / 1000} s; last console line: ${last.slice(0, 200)}`);
    throw new Error(`wasmvisor: the machine stopped (${first.reason}${first.message ? `: ${first.message}` : ''}) before "${MARKER}"; last console line: ${last.slice(0, 200)}`);
  }
  // stop() again on a later turn: a stop() from inside the console callback can miss run()'s
  // wait when the same slice ended in WFI (that wait starts after the callback returned)
  setTimeout(() => m.stop(), 0);
  const grace = after(5_000, undefined);
  const done = await Promise.race([running, grace.promise]);
  grace.cancel();
  const stats = done ? done.stats : m.stats();
  const runS = (markerAt - t1) / 1000;
  return {
    total: (markerAt - t0) / 1000,
    create: (t1 - t0) / 1000,
    run: runS,
    busy: stats.seconds,
    idle: Math.max(0, runS - stats.seconds),
    stats,
    stuck: !done,
    opensbi: /OpenSBI v(\S+)/.exec(tail)?.[1],
  };
}

// ---- main

await ensureGuest();
const kernel = readFileSync(KERNEL);
const initrd = readFileSync(INITRD);
let bios;
if (args.opensbi) {
  if (!existsSync(OPENSBI)) fail(`--opensbi: ${OPENSBI} not found (apt-get install opensbi)`);
  bios = readFileSync(OPENSBI);
}
let kernelVersion = '';
try {
  kernelVersion = JSON.parse(readFileSync(join(GUEST, 'manifest.json'), 'utf8')).kernelVersion ?? '';
} catch {}

const qver = qemuVersion();
if (!qver) console.error(`bench:boot: ${QEMU} not found (apt-get install qemu-system-misc): timing wasmvisor alone`);
const qemuArgs = ['-M', 'virt', '-m', MEMORY, '-smp', '1', '-nographic', '-kernel', KERNEL, '-initrd', INITRD, '-append', append];
const shellQuote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
const rel = (a) => (a.startsWith(ROOT) ? relative(ROOT, a) : a);

const wvByType = Object.fromEntries(types.map((t) => [t, []]));
const wv = wvByType[types[0]];
const qm = [];
let qemuError;
let qemuOpensbi;
for (let i = 1; i <= runs; i++) {
  for (const type of types) {
    progress(`run ${i}/${runs}: wasmvisor (${type}) booting…`);
    let w;
    try {
      w = await bootWasmvisor(kernel, initrd, bios, type);
    } catch (e) {
      fail(`${type}: ${e.message}`);
    }
    wvByType[type].push(w);
    progress(`run ${i}/${runs}: wasmvisor (${type}) ${sec(w.total)} s to the marker (${group(w.stats.instret)} instructions)${w.stuck ? '; run() did not return after stop()' : ''}`);
  }
  if (!qver || qemuError) continue;
  progress(`run ${i}/${runs}: QEMU booting…`);
  try {
    const q = await qemuUntilMarker(qemuArgs, MARKER, { timeoutMs });
    qemuOpensbi ??= /OpenSBI v(\S+)/.exec(q.output)?.[1];
    qm.push(q.seconds);
    progress(`run ${i}/${runs}: QEMU ${sec(q.seconds)} s to the marker`);
  } catch (e) {
    qemuError = e.message;
    console.error(`bench:boot: ${e.message}`);
  }
}

let icount;
if (args['qemu-icount'] && qver && !qemuError) {
  progress('QEMU -icount shift=0 (record mode, for the instruction count; not timed)…');
  const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-boot-'));
  const sock = join(dir, 'qmp.sock');
  try {
    const q = await qemuUntilMarker(
      [...qemuArgs, '-icount', `shift=0,rr=record,rrfile=${join(dir, 'boot.rr')}`, '-qmp', `unix:${sock},server=on,wait=off`],
      MARKER,
      { timeoutMs, atMarker: () => qmp(sock, 'query-replay') },
    );
    icount = { seconds: q.seconds, instructions: BigInt(q.extra.icount) };
    progress(`QEMU -icount: ${group(icount.instructions)} instructions, ${sec(q.seconds)} s`);
  } catch (e) {
    icount = { error: e.message };
    console.error(`bench:boot: --qemu-icount: ${e.message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- report

const cpu = cpus();
const firmware = bios
  ? `OpenSBI ${rel(OPENSBI)}${wv[0].opensbi ? ` (v${wv[0].opensbi})` : ''}, the kernel starts in S-mode from it`
  : "host SBI (the default: the host answers SBI calls, the kernel starts in S-mode; no OpenSBI)";
console.log(`\nLinux boot: power-on to "${MARKER}" (Node ${process.version}, ${cpu.length} CPUs: ${cpu[0]?.model.trim() ?? '?'})`);
console.log(`kernel      ${rel(KERNEL)}${kernelVersion ? ` (Debian ${kernelVersion})` : ''}, ${(kernel.length / 2 ** 20).toFixed(1)} MiB; initrd ${rel(INITRD)}, ${(initrd.length / 2 ** 20).toFixed(1)} MiB`);
console.log(`cmdline     ${append}   (the same for both)`);
console.log(`wasmvisor   createMachine({ memory: '${MEMORY}', kernel, initrd, append${bios ? ', bios' : ''} }); firmware: ${firmware}`);
if (qver)
  console.log(`QEMU        ${[QEMU, ...qemuArgs].map((a) => shellQuote(rel(a))).join(' ')}\n            ${qver}; firmware: its default -bios, OpenSBI${qemuOpensbi ? ` v${qemuOpensbi}` : ''} (M-mode)`);
else console.log(`QEMU        not found (${QEMU} is not installed): wasmvisor alone, no ratio`);
console.log(`runs        ${runs}${qver ? ', alternating wasmvisor and QEMU' : ''}; medians of fixed runs (a boot is one multi-second event: no benchmark.js sampling)`);

console.log('\nseconds to the marker');
const head = 'run'.padEnd(8) + 'wasmvisor'.padStart(10) + 'create'.padStart(9) + 'run'.padStart(8) + '(idle)'.padStart(8) + (qver ? 'QEMU'.padStart(9) + 'ratio'.padStart(8) : '');
console.log(head);
const row = (label, w, q) =>
  label.padEnd(8) + sec(w.total).padStart(10) + sec(w.create).padStart(9) + sec(w.run).padStart(8) + `(${sec(w.idle)})`.padStart(8) +
  (qver ? sec(q).padStart(9) + (q ? `${(w.total / q).toFixed(2)}x` : '-').padStart(8) : '');
wv.forEach((w, i) => console.log(row(String(i + 1), w, qm[i])));
const med = {
  total: median(wv.map((w) => w.total)),
  create: median(wv.map((w) => w.create)),
  run: median(wv.map((w) => w.run)),
  idle: median(wv.map((w) => w.idle)),
  busy: median(wv.map((w) => w.busy)),
};
const qmed = qm.length ? median(qm) : undefined;
console.log(row('median', med, qmed));
console.log('(create: createMachine(), core instance + loading; run: run() to the marker; idle: of that, waiting in WFI in real time)');
const spread = (xs) => (xs.length > 1 ? ((Math.max(...xs) - Math.min(...xs)) / median(xs)) * 100 : 0);
console.log(`spread (max-min)/median: wasmvisor ${spread(wv.map((w) => w.total)).toFixed(1)}%${qm.length ? `, QEMU ${spread(qm).toFixed(1)}%` : ''}`);

if (qmed !== undefined) {
  const ratio = med.total / qmed;
  console.log(`\nratio of medians (wasmvisor / QEMU): ${ratio.toFixed(2)}x   (${sec(med.total)} s / ${sec(qmed)} s)`);
  console.log(`target (issue): boot within ${TARGET}x of QEMU: ${ratio <= TARGET ? 'met' : `not met (${(ratio / TARGET).toFixed(2)}x too slow for it)`}   [information only, not an exit status]`);
} else if (qemuError) {
  console.log(`\nQEMU failed: ${qemuError}; no ratio`);
} else {
  console.log(`\n${QEMU} not found: no ratio, no target check`);
}

if (types.length > 1) {
  console.log(`\nmachine types (each run booted ${types.join(', ')} in turn; medians)`);
  console.log('type'.padEnd(12) + 'seconds'.padStart(9) + 'busy'.padStart(8) + `vs ${types[0]}`.padStart(12) + 'instret'.padStart(16) + 'TLB misses'.padStart(12) + 'walk refs'.padStart(13) + '2-D refs'.padStart(13) + 'VM exits'.padStart(10));
  const base = median(wvByType[types[0]].map((w) => w.total));
  for (const t of types) {
    const ws = wvByType[t];
    const tot = median(ws.map((w) => w.total));
    const m = (k) => group(median(ws.map((w) => w.stats[k])));
    console.log(t.padEnd(12) + sec(tot).padStart(9) + sec(median(ws.map((w) => w.busy))).padStart(8) + `${(tot / base).toFixed(2)}x`.padStart(12) +
      m('instret').padStart(16) + m('tlbMisses').padStart(12) + m('walkRefs').padStart(13) + m('walkRefs2d').padStart(13) +
      m(BOOTS[t].type === 'full' ? 'fvTraps' : 'hvExits').padStart(10));
  }
  console.log('(VM exits: the hw-assist VMM\'s exits; under full, every trap into its VMM)');
  for (const [t, target] of Object.entries(TARGETS)) {
    if (!wvByType[t] || types[0] !== 'native') continue;
    const r = median(wvByType[t].map((w) => w.total)) / base;
    console.log(`target (${BOOTS[t].type} issue): ${t} within ${target}x of native: ${r <= target ? 'met' : 'not met'} (${r.toFixed(2)}x)   [information only, not an exit status]`);
  }
}

const instret = median(wv.map((w) => w.stats.instret));
const n = Number(instret);
console.log(`\nwasmvisor guest instructions to the marker (median): ${group(instret)}`);
console.log(`  ${(n / med.total / 1e6).toFixed(1)} MIPS over the whole boot, ${(n / med.run / 1e6).toFixed(1)} over run(), ${(n / med.busy / 1e6).toFixed(1)} while executing (idle excluded)`);
if (icount?.instructions !== undefined) {
  const q = icount.instructions;
  console.log(`  QEMU -icount shift=0 (one boot, record mode, QMP query-replay at the marker): ${group(q)} instructions; wasmvisor/QEMU ${(n / Number(q)).toFixed(3)}`);
  console.log(`  (that boot took ${sec(icount.seconds)} s: icount mode is slower, so it is not a timing; the firmware differs${bios ? ' in build' : ': OpenSBI runs in M-mode on QEMU'})`);
} else if (icount?.error) {
  console.log(`  QEMU -icount: failed (${icount.error})`);
}

console.log('\ncounters at the marker (machine.stats())');
const cols = wv.map((_, i) => `run ${i + 1}`);
console.log('counter'.padEnd(12) + cols.map((c) => c.padStart(15)).join('') + 'median'.padStart(15) + 'per M insns'.padStart(13));
for (const c of COUNTERS) {
  const vals = wv.map((w) => w.stats[c]);
  const mv = median(vals);
  const per = c === 'instret' ? '' : (Number(mv) / (n / 1e6)).toFixed(1);
  console.log(c.padEnd(12) + vals.map((v) => group(v).padStart(15)).join('') + group(mv).padStart(15) + per.padStart(13));
}
const last = wv.at(-1).stats;
const byCause = (arr, names) =>
  arr.map((v, i) => [names[i] ?? String(i), v]).filter(([, v]) => v > 0n).sort((a, b) => (b[1] > a[1] ? 1 : -1))
    .map(([k, v]) => `${k} ${group(v)}`).join(', ') || 'none';
console.log(`exceptions by cause (run ${wv.length}): ${byCause(last.exceptionsByCause, EXC)}`);
console.log(`interrupts by cause (run ${wv.length}): ${byCause(last.interruptsByCause, IRQ)}`);
const devices = last.devices.map((d) => `${d.device} ${d.notifies}/${d.interrupts}`).join(', ');
if (devices) console.log(`virtio (notifies/interrupts): ${devices}`);
if (wv.some((w) => w.stuck)) console.log('note: run() did not return within 5 s of stop() in some runs; their counters were read with stats()');
process.exit(0);

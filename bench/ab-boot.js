// Interleaved A/B timing of the Linux boot (wasmvisor only): builds side by side, each boot in
// a fresh process, the variants alternating run by run so that a change in the host's load
// hits all of them alike. On a small, shared machine one boot's time moves by a second or
// more; compare medians of several rounds, and the main thread's CPU time beside the wall
// time (background compilation and other processes show in the wall time and process CPU).
//
//   node bench/ab-boot.js [--runs N] VARIANT...
//
// VARIANT   DIR[@OPTIONS[@NODEFLAGS]]: DIR holds a build (dist/ and build/core.wasm, e.g. a copy
//           made with `mkdir -p x/build && cp -r dist x/ && cp build/core.wasm x/build/`);
//           OPTIONS is JSON merged into createMachine's options (e.g. {"jit":{"threshold":3000}});
//           NODEFLAGS are space-separated flags for that variant's node process.
// --runs N  rounds (default 5).
//
// Per boot: wall seconds from createMachine() to the shell marker, the main thread's CPU
// seconds (Linux /proc/thread-self/stat; '-' elsewhere), the process's CPU seconds (all
// threads: V8's background compilers too), guest instructions and JIT counters.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GUEST = join(ROOT, 'build/guests/linux');
const MARKER = 'wasmvisor: shell ready';

const { values: args, positionals } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, child: { type: 'boolean', default: false } },
  allowPositionals: true,
});

/** CPU seconds of the calling thread (Linux), or undefined. */
function threadCpu() {
  try {
    const f = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return undefined;
  }
}

if (args.child) {
  // one boot: DIR OPTIONS -> one JSON line
  const [dir, json] = positionals;
  const { createMachine } = await import(pathToFileURL(join(resolve(dir), 'dist/index.js')).href);
  const kernel = readFileSync(join(GUEST, 'Image'));
  const initrd = readFileSync(join(GUEST, 'initramfs.cpio.gz'));
  let tail = '';
  let seen;
  let atMarker;
  const marker = new Promise((r) => (seen = r));
  const main0 = threadCpu();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let m;
  m = await createMachine({
    memory: '512M', kernel, initrd, append: 'console=ttyS0 quiet', ...JSON.parse(json || '{}'),
    onConsole: (b) => {
      tail = (tail + Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1')).slice(-8192);
      if (atMarker === undefined && tail.includes(MARKER)) { atMarker = performance.now(); m.stop(); seen(); }
    },
  });
  const run = m.run();
  const first = await Promise.race([marker, run]);
  const cpu = process.cpuUsage(cpu0);
  const main1 = threadCpu();
  // run() may settle (stopped) in the same turn the marker was seen: the marker decides
  if (atMarker === undefined) throw new Error(`the machine stopped before the marker: ${first?.reason}`);
  const wall = (atMarker - t0) / 1000;
  const s = m.stats();
  console.log(JSON.stringify({
    wall, main: main0 === undefined ? undefined : main1 - main0, cpu: (cpu.user + cpu.system) / 1e6,
    instret: String(s.instret), jitRetired: String(s.jitRetired), jitCalls: String(s.jitCalls), jit: s.jit,
  }));
  process.exit(0);
}

const runs = Number(args.runs);
if (!Number.isInteger(runs) || runs < 1 || positionals.length < 1) {
  console.error('usage: node bench/ab-boot.js [--runs N] DIR[@OPTIONS[@NODEFLAGS]]...');
  process.exit(1);
}
if (!existsSync(join(GUEST, 'Image'))) {
  console.error(`no guest in ${GUEST}: npm run guests:linux`);
  process.exit(1);
}
const variants = positionals.map((v) => {
  const [dir, json = '{}', flags = ''] = v.split('@');
  if (!existsSync(join(dir, 'dist/index.js')) || !existsSync(join(dir, 'build/core.wasm'))) {
    console.error(`${dir}: no dist/index.js and build/core.wasm there`);
    process.exit(1);
  }
  JSON.parse(json);
  return { name: v, dir, json, flags: flags.split(' ').filter(Boolean), boots: [] };
});
const median = (xs) => {
  const s = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? undefined : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const sec = (x) => (x === undefined ? '-' : x.toFixed(2));
for (let i = 1; i <= runs; i++) {
  for (const v of variants) {
    const out = execFileSync(process.execPath, [...v.flags, fileURLToPath(import.meta.url), '--child', v.dir, v.json], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const b = JSON.parse(out.trim().split('\n').at(-1));
    v.boots.push(b);
    console.log(`round ${i}  ${v.name}: wall ${sec(b.wall)}  main ${sec(b.main)}  cpu ${sec(b.cpu)}  instret ${b.instret}  regions ${b.jit?.blocks ?? '-'}  region calls ${b.jitCalls}`);
  }
}
console.log(`\nmedians of ${runs} rounds (seconds)`);
for (const v of variants) {
  const col = (k) => v.boots.map((b) => sec(b[k])).join(' ');
  console.log(`${v.name}\n  wall ${sec(median(v.boots.map((b) => b.wall)))}  main ${sec(median(v.boots.map((b) => b.main)))}  cpu ${sec(median(v.boots.map((b) => b.cpu)))}` +
    `   [wall ${col('wall')}] [main ${col('main')}] [cpu ${col('cpu')}]`);
}

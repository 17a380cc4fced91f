// qemu-system-riscv64 (TCG) as the peer in the benchmarks: bench/mips.js runs bare images to
// their exit, bench/boot.js boots Linux until a console marker.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readSync, closeSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const QEMU = 'qemu-system-riscv64';

/** The first line of `qemu-system-riscv64 --version`, or null when it is not installed. */
export function qemuVersion() {
  const r = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0].trim() : null;
}

export function qemuAvailable() {
  return qemuVersion() !== null;
}

/** Run QEMU to its exit; returns the wall time in seconds (spawn to exit). */
export function qemuRunSeconds(args, { timeoutMs = 120_000 } = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(QEMU, args, { timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`qemu failed: ${r.error?.message ?? r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** One QMP command on a fresh connection to a unix socket (after the capabilities handshake). */
export function qmp(socketPath, command, { timeoutMs = 5_000 } = {}) {
  return new Promise((resolve, reject) => {
    const c = createConnection(socketPath);
    const timer = setTimeout(() => { c.destroy(); reject(new Error(`QMP ${command}: no answer in ${timeoutMs} ms`)); }, timeoutMs);
    let buf = '';
    let step = 0; // 0: greeting, 1: qmp_capabilities sent, 2: command sent
    c.on('error', (e) => { clearTimeout(timer); reject(e); });
    c.on('data', (d) => {
      buf += d.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line);
        if (msg.event) continue;
        if (step === 0) { c.write('{"execute":"qmp_capabilities"}\n'); step = 1; }
        else if (step === 1) { c.write(JSON.stringify({ execute: command }) + '\n'); step = 2; }
        else {
          clearTimeout(timer);
          c.end();
          if (msg.error) reject(new Error(`QMP ${command}: ${msg.error.desc}`));
          else resolve(msg.return);
          return;
        }
      }
    });
  });
}

/**
 * Spawn QEMU and wait until `marker` appears in its output (stdout and stderr, \r removed).
 * At the marker `atMarker` (optional, async) may look at the still running QEMU; then QEMU is
 * ended (SIGTERM, SIGKILL after 3 s). Resolves with the seconds from spawn to the marker, what
 * atMarker returned and the output's last 64 KiB; rejects if QEMU cannot start, exits first, or
 * the time runs out.
 *
 * The output goes to a temporary file polled every `pollMs`, not to a pipe: QEMU's record mode
 * (-icount rr=record) booted Linux 5-25x slower, and with a varying instruction count, when its
 * stdout was a pipe to node.
 */
export function qemuUntilMarker(args, marker, { timeoutMs = 300_000, atMarker, pollMs = 10 } = {}) {
  return new Promise((resolve, reject) => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-qemu-'));
    const file = join(dir, 'output.txt');
    const wfd = openSync(file, 'w');
    const rfd = openSync(file, 'r');
    const chunk = Buffer.alloc(64 * 1024);
    let pos = 0;
    let out = '';
    let seconds = null;
    let extra;
    let failure;
    const t0 = process.hrtime.bigint();
    const q = spawn(QEMU, args, { stdio: ['pipe', wfd, wfd] });
    closeSync(wfd);
    const end = () => {
      q.kill('SIGTERM');
      setTimeout(() => q.kill('SIGKILL'), 3_000).unref();
    };
    const poll = () => {
      for (let n; (n = readSync(rfd, chunk, 0, chunk.length, pos)) > 0; pos += n)
        out = (out + chunk.toString('latin1', 0, n).replace(/\r/g, '')).slice(-64 * 1024);
      if (seconds !== null || !out.includes(marker)) return;
      seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      clearInterval(poller);
      clearTimeout(timer);
      Promise.resolve()
        .then(() => atMarker?.(q))
        .then((v) => { extra = v; }, (e) => { failure = e; })
        .finally(end);
    };
    const poller = setInterval(poll, pollMs);
    const timer = setTimeout(() => {
      failure = new Error(`QEMU did not print "${marker}" within ${timeoutMs / 1000} s`);
      end();
    }, timeoutMs);
    q.stdin.on('error', () => {});
    q.on('error', (e) => { failure ??= new Error(`cannot run ${QEMU}: ${e.message}`); });
    q.on('close', (code, signal) => {
      if (seconds === null && !failure) poll(); // the marker may be in the last output
      clearInterval(poller);
      clearTimeout(timer);
      closeSync(rfd);
      rmSync(dir, { recursive: true, force: true });
      if (failure) return reject(failure);
      if (seconds === null) {
        const last = out.trim().split('\n').at(-1) ?? '';
        return reject(new Error(`QEMU exited (${signal ?? `status ${code}`}) before "${marker}"; last output: ${last.slice(0, 200)}`));
      }
      resolve({ seconds, extra, output: out });
    });
  });
}

// The Debian riscv64 Linux guest (npm run guests:linux): our cpio writer, the build script
// (including that a repeat run is a cheap no-op), and booting the result under QEMU.
import { describe, it, expect } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

interface CpioEntry {
  path: string;
  mode: number;
  data?: Uint8Array | string;
  target?: string;
  uid?: number;
  gid?: number;
  mtime?: number;
  rdevmajor?: number;
  rdevminor?: number;
}
interface CpioRecord {
  offset: number;
  end?: number;
  name: string;
  data: Buffer;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  filesize: number;
  devmajor: number;
  devminor: number;
  rdevmajor: number;
  rdevminor: number;
  namesize: number;
  check: number;
}
interface CpioLib {
  cpioNewc(entries: CpioEntry[]): Buffer;
  parseNewc(buf: Buffer): CpioRecord[];
  S_IFREG: number;
  S_IFDIR: number;
  S_IFLNK: number;
  S_IFCHR: number;
}
const { cpioNewc, parseNewc, S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR } = (await import(
  '../scripts/lib/cpio.mjs' as string
)) as CpioLib;

const ROOT = join(__dirname, '..');
const OUT = join(ROOT, 'build/guests/linux');
const SCRIPT = join(ROOT, 'scripts/guests-linux.mjs');
const OUTPUTS = ['Image', 'initramfs.cpio.gz', 'disk.ext4', 'manifest.json'];

interface Manifest {
  kernelVersion: string;
  files: Record<string, { bytes: number; sha256: string }>;
  diskFiles: Record<string, string>;
  modules: { load: string[]; builtin: string[]; absent: string[] };
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function runScript() {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [SCRIPT], { cwd: ROOT, encoding: 'utf8', timeout: 900_000 });
  return { code: r.status, err: r.stderr, ms: performance.now() - t0 };
}

// Build (or confirm up to date) once while collecting, so skipIf can see whether it was possible.
const first = runScript();
const unavailable = first.code === 3 ? first.err.trim().split('\n').at(-1) ?? 'exit 3' : null;
const noBuild = unavailable !== null;
const buildNote = unavailable ? ` (skipped: ${unavailable})` : '';
const hasQemu = spawnSync('qemu-system-riscv64', ['--version'], { stdio: 'ignore' }).status === 0;
const qemuNote = buildNote || (hasQemu ? '' : ' (skipped: qemu-system-riscv64 not installed)');
const manifest = (): Manifest => JSON.parse(readFileSync(join(OUT, 'manifest.json'), 'utf8'));

describe('cpioNewc', () => {
  it('writes newc headers, 4-byte padding and the trailer, and parses back', () => {
    const entries: CpioEntry[] = [
      { path: '/', mode: S_IFDIR | 0o755 },
      { path: '/bin', mode: S_IFDIR | 0o755 },
      { path: '/bin/busybox', mode: S_IFREG | 0o755, data: Buffer.from('12345') },
      { path: '/bin/sh', mode: S_IFLNK | 0o777, target: 'busybox' },
      { path: '/dev/console', mode: S_IFCHR | 0o600, rdevmajor: 5, rdevminor: 1 },
      { path: 'e', mode: S_IFREG | 0o644, data: '' },
      { path: 'ab', mode: S_IFREG | 0o600, data: 'xyzw', uid: 1000, gid: 100, mtime: 0x12345678 },
    ];
    const buf = cpioNewc(entries);
    expect(buf.length % 4).toBe(0);
    // First header, field by field: magic, ino 1, mode 040755, uid, gid, nlink 2, mtime 0, size 0,
    // dev 0:0, rdev 0:0, namesize 2 ("." + NUL), check 0; then ".\0" padded to 112.
    expect(buf.toString('ascii', 0, 110)).toBe(
      '070701' + '00000001' + '000041ED' + '00000000' + '00000000' + '00000002' + '00000000' + '00000000' +
        '00000000' + '00000000' + '00000000' + '00000000' + '00000002' + '00000000',
    );
    expect([...buf.subarray(110, 112)]).toEqual([0x2e, 0]);
    expect(buf.toString('ascii', 112, 118)).toBe('070701');

    const recs = parseNewc(buf);
    expect(recs.map((r) => r.name)).toEqual(['.', 'bin', 'bin/busybox', 'bin/sh', 'dev/console', 'e', 'ab', 'TRAILER!!!']);
    for (const r of recs) {
      expect(r.offset % 4).toBe(0);
      expect(r.namesize).toBe(Buffer.byteLength(r.name) + 1);
      expect(r.check).toBe(0);
    }
    const [, , bb, sh, con, e, ab, tr] = recs;
    expect(bb).toMatchObject({ ino: 3, mode: 0o100755, nlink: 1, filesize: 5, uid: 0, gid: 0, mtime: 0 });
    expect(recs[2].data.toString()).toBe('12345');
    // name "bin/busybox\0" = 12 bytes: 110 + 12 = 122 -> 2 pad bytes; data 5 -> 3 pad bytes.
    expect(recs[3].offset - recs[2].offset).toBe(124 + 8);
    expect(buf.subarray(recs[2].offset + 122, recs[2].offset + 124).every((x) => x === 0)).toBe(true);
    expect(buf.subarray(recs[2].offset + 129, recs[2].offset + 132).every((x) => x === 0)).toBe(true);
    expect(sh).toMatchObject({ mode: 0o120777, filesize: 7 });
    expect(recs[3].data.toString()).toBe('busybox');
    expect(con).toMatchObject({ mode: 0o020600, rdevmajor: 5, rdevminor: 1, filesize: 0 });
    expect(e).toMatchObject({ filesize: 0 });
    expect(ab).toMatchObject({ uid: 1000, gid: 100, mtime: 0x12345678, mode: 0o100600, filesize: 4 });
    expect(recs[6].data.toString()).toBe('xyzw');
    expect(tr).toMatchObject({ ino: 0, mode: 0, filesize: 0, namesize: 11, nlink: 1 });
    expect(recs[7].end).toBe(buf.length);
    // Deterministic: the same entries give the same bytes.
    expect(cpioNewc(entries).equals(buf)).toBe(true);
  });

  it('pads every name length and data length to 4 bytes', () => {
    for (let n = 1; n <= 8; n++) {
      for (let d = 0; d <= 5; d++) {
        const buf = cpioNewc([{ path: 'x'.repeat(n), mode: S_IFREG | 0o644, data: Buffer.alloc(d, 0xaa) }]);
        const [f, t] = parseNewc(buf);
        expect(f.name).toBe('x'.repeat(n));
        expect(f.data.equals(Buffer.alloc(d, 0xaa))).toBe(true);
        expect(t.offset % 4).toBe(0);
        expect(t.offset - f.offset).toBe(Math.ceil((110 + n + 1) / 4) * 4 + Math.ceil(d / 4) * 4);
        expect(buf.length % 4).toBe(0);
      }
    }
  });

  it('rejects a symlink without a target', () => {
    expect(() => cpioNewc([{ path: 'l', mode: S_IFLNK | 0o777 }])).toThrow(/target/);
  });
});

describe('npm run guests:linux', () => {
  it.skipIf(noBuild)(`builds Image, initramfs and disk with a matching manifest${buildNote}`, () => {
    expect(first.err).not.toMatch(/error/);
    expect(first.code).toBe(0);
    const m = manifest();
    expect(m.kernelVersion).toMatch(/^\d+\.\d+.*-riscv64$/);
    for (const name of ['Image', 'initramfs.cpio.gz', 'disk.ext4']) {
      const b = readFileSync(join(OUT, name));
      expect(m.files[name]).toEqual({ bytes: b.length, sha256: sha256(b) });
    }
    const img = readFileSync(join(OUT, 'Image'));
    expect(img.toString('latin1', 48, 60)).toBe('RISCV\0\0\0RSC\x05');
    expect(Object.keys(m.diskFiles).sort()).toEqual(['data.bin', 'hello.txt']);
    expect(m.diskFiles['hello.txt']).toBe(sha256(readFileSync(join(ROOT, 'guests/linux/disk/hello.txt'))));

    const recs = parseNewc(gunzipSync(readFileSync(join(OUT, 'initramfs.cpio.gz'))));
    const byName = new Map(recs.map((r) => [r.name, r]));
    expect(byName.get('init')?.data.equals(readFileSync(join(ROOT, 'guests/linux/init')))).toBe(true);
    expect(byName.get('init')?.mode).toBe(0o100755);
    expect(byName.get('bin/busybox')?.data.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    for (const a of ['sh', 'mount', 'insmod', 'sha256sum', 'poweroff', 'setsid', 'cttyhack'])
      expect(byName.get(`bin/${a}`)?.data.toString()).toBe('busybox');
    const md = `lib/modules/${m.kernelVersion}`;
    const load = byName.get(`${md}/modules.load`)!.data.toString().trim().split('\n');
    expect(load).toEqual(m.modules.load);
    for (const ko of load) expect(byName.get(`${md}/${ko}`)?.data.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    // virtio-mmio first (the devices need it), and every dependency before its user.
    const names = load.map((p) => p.split('/').at(-1)!.replace(/\.ko$/, '').replace(/-/g, '_'));
    if (names.includes('virtio_mmio')) expect(names[0]).toBe('virtio_mmio');
    if (names.includes('ext4')) expect(names.indexOf('jbd2')).toBeLessThan(names.indexOf('ext4'));
    if (names.includes('virtio_net')) expect(names.indexOf('net_failover')).toBeLessThan(names.indexOf('virtio_net'));
    // Sorted, parents first, all owned by root with mtime 0.
    const paths = recs.slice(0, -1).map((r) => r.name);
    expect(paths[0]).toBe('.');
    expect(paths.slice(1)).toEqual([...paths.slice(1)].sort());
    expect(recs.every((r) => r.uid === 0 && r.gid === 0 && r.mtime === 0)).toBe(true);
  });

  it.skipIf(noBuild)(`a second run changes nothing and takes < 5 s${buildNote}`, () => {
    const before = OUTPUTS.map((f) => [statSync(join(OUT, f)).mtimeMs, sha256(readFileSync(join(OUT, f)))]);
    const again = runScript();
    expect(again.code).toBe(0);
    expect(again.err).toMatch(/initramfs: up to date/);
    expect(again.ms).toBeLessThan(5000);
    const after = OUTPUTS.map((f) => [statSync(join(OUT, f)).mtimeMs, sha256(readFileSync(join(OUT, f)))]);
    expect(after).toEqual(before);
  });
});

interface QemuRun {
  out: string;
  code: number | null;
  markerMs: number | null;
}

/** Boot the guest under QEMU; onData may answer on stdin. Output has \r\n turned into \n. */
function boot(append: string, marker: string, onData?: (out: string, stdin: NodeJS.WritableStream) => void): Promise<QemuRun> {
  const disk = join(OUT, 'disk.ext4');
  const args = ['-M', 'virt', '-m', '512M', '-smp', '1', '-nographic', '-kernel', join(OUT, 'Image'),
    '-initrd', join(OUT, 'initramfs.cpio.gz'), '-append', append];
  if (existsSync(disk)) args.push('-drive', `file=${disk},if=none,id=d0,format=raw,readonly=on`, '-device', 'virtio-blk-device,drive=d0');
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const q = spawn('qemu-system-riscv64', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let markerMs: number | null = null;
    const timer = setTimeout(() => q.kill('SIGKILL'), 280_000);
    const onChunk = (c: Buffer) => {
      out += c.toString('latin1').replace(/\r/g, '');
      if (markerMs === null && out.includes(marker)) markerMs = performance.now() - t0;
      onData?.(out, q.stdin);
    };
    q.stdout.on('data', onChunk);
    q.stderr.on('data', onChunk);
    q.stdin.on('error', () => {});
    q.on('error', reject);
    q.on('close', (code) => {
      clearTimeout(timer);
      resolve({ out, code, markerMs });
    });
  });
}

describe('the Linux guest under QEMU', () => {
  it.skipIf(noBuild || !hasQemu)(`runs wvrun=, prints what the manifest says, powers off${qemuNote}`, async () => {
    const m = manifest();
    const r = await boot(
      'console=ttyS0 wvrun="uname -a; cat /proc/cpuinfo; ls /; sha256sum /mnt/hello.txt /mnt/data.bin"',
      'wasmvisor: run exit 0',
    );
    const lines = r.out.split('\n');
    const ctx = r.out.slice(-3000);
    expect(lines.some((l) => l.startsWith(`Linux (none) ${m.kernelVersion} `) && l.endsWith(' riscv64 GNU/Linux')), ctx).toBe(true);
    expect(lines, ctx).toContain('processor\t: 0');
    expect(lines.some((l) => /^isa\t+: rv64ima/.test(l)), ctx).toBe(true);
    expect(lines.some((l) => /^bin +dev +etc +init +lib +mnt +proc +root +sys +tmp$/.test(l)), ctx).toBe(true);
    expect(lines, ctx).toContain(`${m.diskFiles['hello.txt']}  /mnt/hello.txt`);
    expect(lines, ctx).toContain(`${m.diskFiles['data.bin']}  /mnt/data.bin`);
    expect(lines, ctx).toContain('wasmvisor: run exit 0');
    expect(r.out, ctx).not.toMatch(/wasmvisor: (insmod|mount)/); // no module or mount failures
    expect(r.code, ctx).toBe(0); // poweroff ends QEMU
    console.log(`QEMU: power-on to "wasmvisor: run exit 0" in ${((r.markerMs ?? NaN) / 1000).toFixed(2)} s`);
  }, 300_000);

  it.skipIf(noBuild || !hasQemu)(`starts an interactive shell on the console${qemuNote}`, async () => {
    let sent = false;
    const r = await boot('console=ttyS0', 'wasmvisor: shell ready', (out, stdin) => {
      // Type only once the prompt is up: input sent while the kernel boots is dropped.
      const ready = out.indexOf('wasmvisor: shell ready\n');
      if (!sent && ready >= 0 && out.slice(ready).includes('# ')) {
        sent = true;
        stdin.write('echo hi; poweroff -f\n');
      }
    });
    const ctx = r.out.slice(-3000);
    const after = r.out.slice(r.out.indexOf('wasmvisor: shell ready')).split('\n');
    expect(r.markerMs, ctx).not.toBeNull();
    expect(after, ctx).toContain('hi');
    expect(r.code, ctx).toBe(0);
  }, 300_000);
});

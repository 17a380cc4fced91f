#!/usr/bin/env node
// npm run guests:linux — fetch Debian's riscv64 kernel, its modules and busybox-static
// through a private apt configuration (the machine's own apt state is untouched), and
// build into build/guests/linux/:
//   Image               the flat RISC-V kernel Image (linux-binary-<ver>)
//   initramfs.cpio.gz   busybox + guests/linux/init + the virtio/ext4 modules
//   disk.ext4           8 MiB ext4 test disk from guests/linux/disk (+ generated data.bin)
//   manifest.json       { kernelVersion, files: {name: {bytes, sha256}}, diskFiles: {path: sha256}, modules }
// Every step is skipped when its output is up to date, so a second run is cheap.
// Exit codes: 0 ok, 3 download impossible (no apt/network/mirror; one line on stderr), 1 other errors.
// See guests/linux/README.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync,
  statSync, utimesSync, writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, gunzipSync } from 'node:zlib';
import { cpioNewc, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG } from './lib/cpio.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const OUT = join(ROOT, 'build/guests/linux');
const GUEST = join(ROOT, 'guests/linux');
const CACHE = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'wasmvisor/debian');
const LISTS_MAX_AGE_MS = 7 * 24 * 3600e3; // refresh the apt lists weekly (WASMVISOR_APT_REFRESH=1 forces)
const SUITE = 'forky';
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const DISK_SIZE = '8M';
const DISK_UUID = '5a5f0c1e-7761-4e76-9d69-736f72000001'; // fixed: deterministic disk
const FAKE_TIME = 1735689600; // 2025-01-01T00:00:00Z, for mke2fs and the disk files' times
const DATA_BIN_BYTES = 64 * 1024;
const DATA_BIN_SEED = 0x5741534d5649534fn; // "WASMVISO"

// Modules we want, with the config symbol that says built-in (=y) or module (=m).
const WANTED_MODULES = [
  ['virtio_mmio', 'VIRTIO_MMIO'],
  ['virtio_blk', 'VIRTIO_BLK'],
  ['virtio_console', 'VIRTIO_CONSOLE'],
  ['virtio_rng', 'HW_RANDOM_VIRTIO'],
  ['virtio_net', 'VIRTIO_NET'],
  ['ext4', 'EXT4_FS'],
];
// Modules packed but not loaded at boot, compressed as Debian ships them: /lib/modules/<ver>/
// <name>.load lists the module and the dependencies not loaded at boot, in load order (the
// H-extension test runs `insmod kvm.ko.xz`).
const ON_DEMAND_MODULES = [
  ['kvm', 'KVM'],
];
// Busybox applets linked in /bin (required ones must exist in the binary; extras only if present).
const APPLETS = [
  'sh', 'mount', 'umount', 'mkdir', 'cat', 'echo', 'ls', 'uname', 'sha256sum', 'poweroff', 'reboot', 'insmod',
  'sed', 'grep', 'sleep', 'dmesg', 'setsid', 'cttyhack', 'head', 'tr', 'cut', 'sync',
];
const EXTRA_APPLETS = [
  'ash', 'lsmod', 'rmmod', 'modprobe', 'mdev', 'tail', 'wc', 'cp', 'mv', 'rm', 'ln', 'chmod', 'touch', 'dd', 'df', 'du',
  'free', 'ps', 'kill', 'true', 'false', 'test', '[', 'env', 'date', 'hostname', 'ip', 'ifconfig', 'md5sum', 'sha1sum',
  'hexdump', 'od', 'find', 'xargs', 'sort', 'uniq', 'awk', 'vi', 'more', 'stat', 'time', 'printf', 'pwd', 'clear',
  'halt', 'id', 'whoami', 'nproc', 'uptime', 'top', 'watch', 'seq', 'yes', 'cmp', 'diff', 'gzip', 'gunzip', 'tar',
  'login', 'getty', 'stty', 'tty', 'blkid', 'losetup', 'mknod', 'readlink', 'realpath', 'basename', 'dirname',
];

const log = (msg) => process.stderr.write(`guests:linux: ${msg}\n`);
class Unavailable extends Error {}
let mirrorHost = null; // never printed: scrubbed from every message
const scrub = (s) => {
  let t = String(s).replace(/\b(?:https?|ftp|mirror(?:\+\w+)?|tor\+https?):\/\/\S+/gi, '<mirror>');
  if (mirrorHost) t = t.split(mirrorHost).join('<mirror>');
  return t;
};
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const sha256File = (p) => sha256(readFileSync(p));
const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...opts });
  if (r.error) throw r.error;
  return r;
}

function firstLine(s) {
  const lines = scrub(s).split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /^(E:|Err:|W: Failed)/.test(l)) ?? lines.at(-1) ?? '';
}

/** Write atomically, and only when the content differs (keeps mtimes of unchanged outputs). */
function writeIfChanged(path, buf) {
  if (existsSync(path) && readFileSync(path).equals(buf)) return false;
  writeFileSync(path + '.tmp', buf);
  renameSync(path + '.tmp', path);
  return true;
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

function walk(dir, base = dir, out = []) {
  for (const d of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, d.name);
    if (d.isDirectory()) walk(p, base, out);
    else out.push(relative(base, p));
  }
  return out;
}

// ---------------------------------------------------------------- apt (private config)
function aptSetup() {
  for (const c of ['apt-get', 'apt-cache', 'dpkg-deb']) if (!have(c)) throw new Unavailable(`${c} not found (needs a Debian host)`);
  if (!existsSync(KEYRING)) throw new Unavailable(`${KEYRING} missing (install debian-archive-keyring)`);
  const src = '/etc/apt/sources.list.d/debian.sources';
  let uri = null;
  try {
    uri = readFileSync(src, 'utf8').match(/^URIs:\s*(\S+)/m)?.[1] ?? null;
  } catch {}
  if (!uri) throw new Unavailable(`no Debian mirror URI in ${src}`);
  try {
    mirrorHost = new URL(uri).host;
  } catch {}
  const D = CACHE;
  for (const d of ['lists/partial', 'cache/archives/partial', 'debs', 'x']) mkdirSync(join(D, d), { recursive: true });
  const line = `deb [arch=riscv64 signed-by=${KEYRING}] ${uri} ${SUITE} main\n`;
  const sources = join(D, 'sources.list');
  const sourcesChanged = writeIfChanged(sources, Buffer.from(line));
  // Read after the host's apt.conf.d (so proxies still apply): drop the host's update/dpkg
  // hooks, and keep the package cache in our dir (apt-cache is slow without one).
  const conf = join(D, 'apt.conf');
  writeIfChanged(conf, Buffer.from([
    '#clear APT::Update::Pre-Invoke;', '#clear APT::Update::Post-Invoke;', '#clear APT::Update::Post-Invoke-Success;',
    '#clear DPkg::Pre-Invoke;', '#clear DPkg::Post-Invoke;',
    `Dir::Cache "${D}/cache";`, 'Dir::Cache::archives "archives/";',
    'Dir::Cache::pkgcache "pkgcache.bin";', 'Dir::Cache::srcpkgcache "srcpkgcache.bin";', '',
  ].join('\n')));
  const o = [
    '-c', conf, '-oAPT::Architecture=riscv64', '-oAPT::Architectures=riscv64',
    `-oDir::State::Lists=${D}/lists`, `-oDir::Etc::SourceList=${sources}`, '-oDir::Etc::SourceParts=/nonexistent',
    '-oDir::Etc::Preferences=/nonexistent', '-oDir::Etc::PreferencesParts=/nonexistent', '-qq',
  ];
  if (process.getuid?.() === 0) o.push('-oAPT::Sandbox::User=root'); // private lists dir is not _apt's
  return { o, sourcesChanged, line };
}

function aptLists({ o, sourcesChanged, line }) {
  const stamp = join(CACHE, 'lists/.wasmvisor-updated');
  const haveLists = readdirSync(join(CACHE, 'lists')).some((f) => /binary-riscv64_Packages/.test(f));
  let age = Infinity;
  try {
    if (readFileSync(stamp, 'utf8') === line) age = Date.now() - statSync(stamp).mtimeMs;
  } catch {}
  if (haveLists && !sourcesChanged && age < LISTS_MAX_AGE_MS && !process.env.WASMVISOR_APT_REFRESH) {
    log(`apt lists: up to date (${(age / 3600e3).toFixed(1)} h old)`);
    return;
  }
  log(`apt lists: updating (${SUITE}, riscv64)`);
  const r = run('apt-get', [...o, 'update']);
  const failed = r.status !== 0 || /^(E:|Err:|W: Failed to fetch)/m.test(r.stdout + r.stderr);
  if (failed) {
    const why = firstLine(r.stderr + '\n' + r.stdout) || `apt-get update exited ${r.status}`;
    if (!haveLists) throw new Unavailable(`apt-get update failed: ${why}`);
    log(`apt lists: update failed, using the old lists (${why})`);
    return;
  }
  writeFileSync(stamp, line);
}

function resolveKernel({ o }) {
  const r = run('apt-cache', [...o, 'depends', 'linux-image-riscv64']);
  const m = r.stdout.match(/Depends:\s*linux-image-(\S+-riscv64)\s*$/m);
  if (r.status !== 0 || !m) throw new Unavailable(`cannot resolve linux-image-riscv64: ${firstLine(r.stderr) || 'no linux-image-<ver> dependency'}`);
  const ver = m[1];
  // The image metapackage of <ver> depends on the packages that hold the files
  // (linux-binary: vmlinuz, linux-modules: *.ko.xz, linux-base: config).
  const d = run('apt-cache', [...o, 'depends', `linux-image-${ver}`]).stdout;
  const parts = [...d.matchAll(/Depends:\s*(linux-(?:base|binary|modules)-\S+)\s*$/gm)].map((x) => x[1]).filter((p) => p.endsWith(ver));
  const pkgs = parts.some((p) => p.startsWith('linux-binary-')) ? parts : [`linux-image-${ver}`, ...parts];
  log(`kernel: ${ver} (${[...new Set(pkgs)].join(', ')})`);
  return { ver, pkgs: [...new Set(pkgs), 'busybox-static'] };
}

function download({ o }, pkgs) {
  const r = run('apt-get', [...o, '--print-uris', 'download', ...pkgs]);
  const found = [...r.stdout.matchAll(/^'\S+'\s+(\S+\.deb)\s+(\d+)\s+(\S+)$/gm)].map((m) => ({ file: m[1], size: +m[2], hash: m[3] }));
  const rows = pkgs.map((p) => found.find((x) => x.file.startsWith(p + '_')));
  if (r.status !== 0 || rows.some((x) => !x)) throw new Unavailable(`cannot locate ${pkgs.join(' ')}: ${firstLine(r.stderr + r.stdout)}`);
  const debs = join(CACHE, 'debs');
  const ok = (x) => {
    try {
      return statSync(join(debs, x.file)).size === x.size && readFileSync(join(debs, x.file + '.ok'), 'utf8') === x.hash;
    } catch {
      return false;
    }
  };
  const missing = rows.filter((x) => !ok(x));
  if (!missing.length) log(`download: up to date (${rows.length} .debs in cache)`);
  else {
    const names = missing.map((x) => pkgs[rows.indexOf(x)]);
    log(`download: ${names.join(', ')} (${mib(missing.reduce((a, x) => a + x.size, 0))})`);
    const d = run('apt-get', [...o, 'download', ...names], { cwd: debs });
    if (d.status !== 0) throw new Unavailable(`apt-get download failed: ${firstLine(d.stderr + d.stdout)}`);
    for (const x of missing) {
      if (statSync(join(debs, x.file)).size !== x.size) throw new Error(`${x.file}: wrong size after download`);
      writeFileSync(join(debs, x.file + '.ok'), x.hash); // apt-get verified the hash
    }
  }
  // Drop .debs and extractions of other versions, so the cache does not grow forever.
  const keep = new Set(rows.flatMap((x) => [x.file, x.file + '.ok']));
  for (const f of readdirSync(debs)) if (!keep.has(f)) rmSync(join(debs, f), { force: true });
  const keepX = new Set(rows.map((x) => x.file.replace(/\.deb$/, '')));
  for (const f of readdirSync(join(CACHE, 'x'))) if (!keepX.has(f)) rmSync(join(CACHE, 'x', f), { recursive: true, force: true });
  return Object.fromEntries(pkgs.map((p, i) => [p, join(debs, rows[i].file)]));
}

function extract(debPaths) {
  const dirs = {};
  const todo = [];
  for (const [pkg, deb] of Object.entries(debPaths)) {
    const dir = join(CACHE, 'x', basename(deb, '.deb'));
    dirs[pkg] = dir;
    if (!existsSync(join(dir, '.wasmvisor-extracted'))) todo.push([pkg, deb, dir]);
  }
  if (!todo.length) return log('extract: up to date'), dirs;
  log(`extract: ${todo.map((t) => t[0]).join(', ')}`);
  for (const [, deb, dir] of todo) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync('dpkg-deb', ['-x', deb, dir]);
    writeFileSync(join(dir, '.wasmvisor-extracted'), '');
  }
  return dirs;
}

// ---------------------------------------------------------------- ELF helpers
function elfInfo(buf) {
  if (buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) return null; // ELF64 LE only
  const phoff = Number(buf.readBigUInt64LE(0x20)), phentsize = buf.readUInt16LE(0x36), phnum = buf.readUInt16LE(0x38);
  const ptypes = [];
  for (let i = 0; i < phnum; i++) ptypes.push(buf.readUInt32LE(phoff + i * phentsize));
  return { type: buf.readUInt16LE(0x10), machine: buf.readUInt16LE(0x12), ptypes };
}

/** Key/value pairs of a kernel module's .modinfo section. */
function modinfo(buf) {
  const shoff = Number(buf.readBigUInt64LE(0x28)), shentsize = buf.readUInt16LE(0x3a), shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  const sh = (i) => {
    const b = shoff + i * shentsize;
    return { name: buf.readUInt32LE(b), off: Number(buf.readBigUInt64LE(b + 24)), size: Number(buf.readBigUInt64LE(b + 32)) };
  };
  const strtab = sh(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const s = sh(i);
    const n = buf.toString('latin1', strtab.off + s.name, buf.indexOf(0, strtab.off + s.name));
    if (n !== '.modinfo') continue;
    const info = {};
    for (const kv of buf.toString('utf8', s.off, s.off + s.size).split('\0')) {
      const eq = kv.indexOf('=');
      if (eq > 0) (info[kv.slice(0, eq)] ??= []).push(kv.slice(eq + 1));
    }
    return info;
  }
  throw new Error('module has no .modinfo section');
}

function decompressModule(path) {
  if (path.endsWith('.ko')) return readFileSync(path);
  if (path.endsWith('.xz')) return execFileSync('xz', ['-dc', path], { maxBuffer: 1 << 30 });
  if (path.endsWith('.gz')) return gunzipSync(readFileSync(path));
  if (path.endsWith('.zst')) return execFileSync('zstd', ['-dc', path], { maxBuffer: 1 << 30 });
  throw new Error(`unknown module compression: ${path}`);
}

// ---------------------------------------------------------------- the build
function findFirst(dirs, rels) {
  for (const d of dirs) for (const r of rels) if (existsSync(join(d, r))) return join(d, r);
  return null;
}

/** Resolve WANTED_MODULES (+ their depends=) against the config and the modules package. */
function planModules(ver, configPath, modRoot) {
  const config = readFileSync(configPath, 'utf8');
  const cfg = (sym) => config.match(new RegExp(`^CONFIG_${sym}=(\\S+)$`, 'm'))?.[1] ?? 'n';
  const index = new Map(); // module name -> path relative to modRoot
  for (const rel of walk(join(modRoot, 'kernel'), modRoot)) {
    const m = basename(rel).match(/^(.*)\.ko(\.xz|\.gz|\.zst)?$/);
    if (m) index.set(m[1].replace(/-/g, '_'), rel);
  }
  const builtin = [], absent = [], order = [], data = new Map();
  const visit = (name, chain) => {
    if (order.includes(name)) return;
    if (chain.includes(name)) throw new Error(`module dependency cycle: ${[...chain, name].join(' -> ')}`);
    const rel = index.get(name);
    if (!rel) throw new Error(`module ${name} (needed by ${chain.at(-1)}) not in the modules package`);
    const buf = decompressModule(join(modRoot, rel));
    const info = modinfo(buf);
    const vm = info.vermagic?.[0] ?? '';
    if (!vm.startsWith(ver + ' ')) throw new Error(`${name}: vermagic "${vm}" does not match ${ver}`);
    for (const dep of (info.depends?.[0] ?? '').split(',').filter(Boolean)) visit(dep.replace(/-/g, '_'), [...chain, name]);
    order.push(name);
    data.set(name, { rel: rel.replace(/\.(xz|gz|zst)$/, ''), buf, orig: rel });
  };
  for (const [name, sym] of WANTED_MODULES) {
    const v = cfg(sym);
    if (v === 'y') builtin.push(name);
    else if (v === 'm') visit(name, []);
    else absent.push(name);
  }
  const atBoot = order.length;
  const onDemand = [];
  for (const [name, sym] of ON_DEMAND_MODULES) {
    const v = cfg(sym);
    if (v === 'y') builtin.push(name);
    else if (v !== 'm') absent.push(name);
    else {
      const start = order.length;
      visit(name, []);
      // packed as Debian ships them (kvm.ko.xz): busybox's insmod decompresses xz itself
      for (const n of order.slice(start)) {
        const d = data.get(n);
        if (d.orig !== d.rel) data.set(n, { rel: d.orig, buf: readFileSync(join(modRoot, d.orig)), orig: d.orig });
      }
      onDemand.push({ name, load: order.slice(start).map((n) => data.get(n).rel) });
    }
  }
  const packed = order.map((n) => ({ name: n, ...data.get(n) }));
  order.splice(atBoot);
  return { builtin, absent, order, modules: packed.slice(0, atBoot), packed, onDemand };
}

function checkBusybox(buf) {
  const e = elfInfo(buf);
  if (!e || e.machine !== 243) throw new Error('busybox is not a 64-bit RISC-V ELF');
  if (e.ptypes.includes(3)) throw new Error('busybox is dynamically linked (has PT_INTERP)');
  const has = (a) => buf.includes(Buffer.from(`\0${a}\0`, 'latin1'));
  const missing = APPLETS.filter((a) => !has(a));
  if (missing.length) throw new Error(`busybox lacks applets: ${missing.join(' ')}`);
  return [...APPLETS, ...EXTRA_APPLETS.filter(has)];
}

function buildInitramfs(ver, busybox, plan) {
  const applets = checkBusybox(busybox);
  const dir = (path, mode = 0o755) => ({ path, mode: S_IFDIR | mode });
  const file = (path, data, mode = 0o644) => ({ path, mode: S_IFREG | mode, data });
  const md = `lib/modules/${ver}`;
  const entries = [
    dir(''), dir('bin'), dir('dev'), dir('etc'), dir('lib'), dir('lib/modules'), dir(md), dir('mnt'), dir('proc'),
    dir('root', 0o700), dir('sys'), dir('tmp', 0o1777),
    { path: 'dev/console', mode: S_IFCHR | 0o600, rdevmajor: 5, rdevminor: 1 },
    file('init', readFileSync(join(GUEST, 'init')), 0o755),
    file('bin/busybox', busybox, 0o755),
    ...applets.map((a) => ({ path: `bin/${a}`, mode: S_IFLNK | 0o777, target: 'busybox' })),
    file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n'),
    file('etc/group', 'root:x:0:\n'),
    file(`${md}/modules.load`, plan.modules.map((m) => m.rel + '\n').join('')),
    ...plan.onDemand.map((o) => file(`${md}/${o.name}.load`, o.load.map((rel) => rel + '\n').join(''))),
  ];
  const dirs = new Set(entries.filter((e) => (e.mode & 0o170000) === S_IFDIR).map((e) => e.path));
  for (const m of plan.packed) {
    const parts = `${md}/${m.rel}`.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) dirs.add(d), entries.push(dir(d));
    }
    entries.push(file(`${md}/${m.rel}`, m.buf));
  }
  entries.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path))); // parents first
  return gzipSync(cpioNewc(entries), { level: 9 });
}

/** 64 KiB from splitmix64 with a fixed seed. */
function dataBin() {
  const out = Buffer.alloc(DATA_BIN_BYTES);
  let s = DATA_BIN_SEED;
  const M = (1n << 64n) - 1n;
  for (let i = 0; i < DATA_BIN_BYTES; i += 8) {
    s = (s + 0x9e3779b97f4a7c15n) & M;
    let z = s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
    out.writeBigUInt64LE(z ^ (z >> 31n), i);
  }
  return out;
}

function diskTree() {
  const src = join(GUEST, 'disk');
  const files = {};
  for (const rel of walk(src)) if (rel !== 'data.bin') files[rel] = readFileSync(join(src, rel));
  files['data.bin'] = dataBin();
  return files;
}

function buildDisk(files) {
  const tmp = mkdtempSync(join(tmpdir(), 'wasmvisor-disk-'));
  try {
    const root = join(tmp, 'root');
    mkdirSync(root);
    const dirs = new Set([root]);
    for (const [rel, buf] of Object.entries(files)) {
      const p = join(root, rel);
      for (let d = dirname(p); d !== root && !dirs.has(d); d = dirname(d)) dirs.add(d);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, buf);
      chmodSync(p, 0o644);
      utimesSync(p, FAKE_TIME, FAKE_TIME);
    }
    for (const d of [...dirs].sort().reverse()) chmodSync(d, 0o755), utimesSync(d, FAKE_TIME, FAKE_TIME);
    const img = join(tmp, 'disk.ext4');
    const r = run('mke2fs', ['-q', '-t', 'ext4', '-d', root, '-L', 'wvdisk', '-E', `root_owner=0:0,hash_seed=${DISK_UUID}`, '-U', DISK_UUID, img, DISK_SIZE], {
      env: { ...process.env, E2FSPROGS_FAKE_TIME: String(FAKE_TIME) },
    });
    if (r.status !== 0) throw new Error(`mke2fs failed: ${r.stderr.trim()}`);
    // mke2fs copies ctime (and atime) from the host files, which cannot be set: pin them.
    const paths = ['/', ...[...dirs].filter((d) => d !== root).map((d) => '/' + relative(root, d)), ...Object.keys(files).map((f) => '/' + f)];
    writeFileSync(join(tmp, 'cmds'), paths.flatMap((p) => [`sif "${p}" ctime @${FAKE_TIME}`, `sif "${p}" atime @${FAKE_TIME}`]).join('\n') + '\n');
    const d = run('debugfs', ['-w', '-f', join(tmp, 'cmds'), img]);
    if (d.status !== 0 || /error|not found|invalid/i.test(d.stderr.replace(/^debugfs [^\n]*\n/, ''))) throw new Error(`debugfs failed: ${d.stderr.trim()}`);
    return readFileSync(img);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function main() {
  for (const c of ['xz', 'mke2fs', 'debugfs']) if (!have(c)) throw new Error(`${c} not found (apt-get install ${c === 'xz' ? 'xz-utils' : 'e2fsprogs'})`);
  const apt = aptSetup();
  aptLists(apt);
  const { ver, pkgs } = resolveKernel(apt);
  const x = extract(download(apt, pkgs));
  mkdirSync(OUT, { recursive: true });

  const stampPath = join(OUT, '.inputs.json');
  const stamps = readJson(stampPath) ?? {};
  const old = readJson(join(OUT, 'manifest.json'));
  const files = {};
  // An output is up to date when its inputs key matches and its size matches the manifest.
  const fresh = (name, key) => {
    const f = old?.files?.[name];
    return stamps[name] === key && old?.kernelVersion === ver && f && existsSync(join(OUT, name)) && statSync(join(OUT, name)).size === f.bytes
      ? (files[name] = f)
      : null;
  };
  const put = (name, key, buf) => {
    writeIfChanged(join(OUT, name), buf);
    files[name] = { bytes: buf.length, sha256: sha256(buf) };
    stamps[name] = key;
  };
  const roots = Object.values(x);
  const selfKey = sha256(readFileSync(fileURLToPath(import.meta.url)) + readFileSync(join(ROOT, 'scripts/lib/cpio.mjs')));

  // Image: the flat kernel from linux-binary-<ver>.
  const vmlinuz = findFirst(roots, [`usr/lib/modules/${ver}/vmlinuz`, `lib/modules/${ver}/vmlinuz`, `boot/vmlinuz-${ver}`]);
  if (!vmlinuz) throw new Error(`no vmlinuz for ${ver} in ${pkgs.join(', ')}`);
  const imageKey = sha256(`${ver}\0${vmlinuz}\0${statSync(vmlinuz).size}`);
  if (fresh('Image', imageKey)) log(`Image: up to date (${mib(files.Image.bytes)})`);
  else {
    const img = readFileSync(vmlinuz);
    if (img.toString('latin1', 48, 56) !== 'RISCV\0\0\0' || img.toString('latin1', 56, 60) !== 'RSC\x05')
      throw new Error(`${vmlinuz} is not a flat RISC-V Image (bad header magic)`);
    log(`Image: ${mib(img.length)} from ${relative(CACHE, vmlinuz)}`);
    put('Image', imageKey, img);
  }

  // initramfs: busybox + /init + modules (planned against the config every run: cheap, and
  // the list goes into the manifest).
  const config = findFirst(roots, [`usr/lib/modules/${ver}/config`, `lib/modules/${ver}/config`, `boot/config-${ver}`]);
  if (!config) throw new Error(`no kernel config for ${ver} in ${pkgs.join(', ')}`);
  const modRoot = findFirst(roots, [`usr/lib/modules/${ver}/kernel`, `lib/modules/${ver}/kernel`]);
  if (!modRoot) throw new Error(`no modules for ${ver}`);
  const busyboxPath = findFirst([x['busybox-static']], ['usr/bin/busybox', 'bin/busybox']);
  if (!busyboxPath) throw new Error('no busybox in busybox-static');
  const initKey = sha256([selfKey, ver, x['busybox-static'], modRoot, sha256File(join(GUEST, 'init'))].join('\0'));
  let modulesInfo = old?.modules;
  if (fresh('initramfs.cpio.gz', initKey) && modulesInfo) log(`initramfs: up to date (${mib(files['initramfs.cpio.gz'].bytes)})`);
  else {
    const plan = planModules(ver, config, dirname(modRoot));
    modulesInfo = {
      load: plan.modules.map((m) => m.rel), builtin: plan.builtin, absent: plan.absent,
      onDemand: Object.fromEntries(plan.onDemand.map((o) => [o.name, o.load])),
    };
    const gz = buildInitramfs(ver, readFileSync(busyboxPath), plan);
    log(`initramfs: ${mib(gz.length)}, modules ${plan.order.join(' ')}; on demand: ${plan.onDemand.map((o) => o.name).join(' ') || '-'}; built in: ${plan.builtin.join(' ') || '-'}`);
    put('initramfs.cpio.gz', initKey, gz);
  }

  // disk.ext4 from guests/linux/disk plus the generated data.bin.
  const tree = diskTree();
  const diskFiles = Object.fromEntries(Object.entries(tree).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sha256(v)]));
  const mkeV = run('mke2fs', ['-V']).stderr.split('\n')[0];
  const diskKey = sha256([selfKey, mkeV, JSON.stringify(diskFiles)].join('\0'));
  if (fresh('disk.ext4', diskKey)) log(`disk.ext4: up to date (${Object.keys(diskFiles).join(', ')})`);
  else {
    const img = buildDisk(tree);
    log(`disk.ext4: ${mib(img.length)} with ${Object.keys(diskFiles).join(', ')}`);
    put('disk.ext4', diskKey, img);
  }

  const manifest = { kernelVersion: ver, files, diskFiles, modules: modulesInfo };
  const changed = writeIfChanged(join(OUT, 'manifest.json'), Buffer.from(JSON.stringify(manifest, null, 2) + '\n'));
  writeIfChanged(stampPath, Buffer.from(JSON.stringify(stamps, null, 2) + '\n'));
  log(`manifest.json: ${changed ? 'written' : 'up to date'} (${relative(ROOT, OUT)})`);
}

try {
  main();
} catch (e) {
  if (e instanceof Unavailable) {
    process.stderr.write(`guests:linux: download impossible: ${scrub(e.message).replace(/\s+/g, ' ')}\n`);
    process.exit(3);
  }
  process.stderr.write(`guests:linux: error: ${scrub(e.stack ?? e)}\n`);
  process.exit(1);
}

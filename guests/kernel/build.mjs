#!/usr/bin/env node
// Build the teaching kernel (guests/kernel, see README.md) with Debian's riscv64-unknown-elf-gcc:
//   build/guests/kernel/kernel-native.elf     the kernel, user programs linked in
//   build/guests/kernel/kernel-pv.elf         the same sources built -DPARAVIRT (hypercalls)
//   build/guests/kernel/user/*.elf            the user programs (bench, yielder, nop)
// The build is reproducible byte for byte: no debug information, no build id, sources named
// by relative paths, a fixed order.
//   --update-prebuilt   also copy the kernels to guests/kernel/prebuilt/ (committed, so the
//                       package runs without a cross compiler)
//   --check-prebuilt    build, and fail if the result differs from the prebuilt copy
// Exit codes: 0 ok, 1 a compile error or a --check-prebuilt difference, 3 no cross compiler.
// RISCV_CC=<compiler> picks another compiler.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(dirname(SRC));
const OUT = join(ROOT, 'build/guests/kernel');
const KERNELS = ['kernel-native.elf', 'kernel-pv.elf'];
const PREBUILT_TOOLCHAIN = join(SRC, 'prebuilt/toolchain.txt');
const CC = process.env.RISCV_CC || 'riscv64-unknown-elf-gcc';

const USER_PROGRAMS = ['bench', 'yielder', 'nop']; // also listed in programs.S
const COMMON_SOURCES = ['entry.S', 'main.c', 'fdt.c', 'mm.c', 'proc.c', 'trap.c', 'lib.c', 'programs.S'];
// the architecture layer and the block driver differ (arch.h explains the split)
const BUILDS = {
  'kernel-native.elf': { sources: ['arch.c', 'virtio_blk.c'], defines: [] },
  'kernel-pv.elf': { sources: ['arch_pv.c', 'blk_pv.c'], defines: ['-DPARAVIRT'] },
};

const CFLAGS = [
  '-O2', '-g0', '-mcmodel=medany', '-march=rv64imac_zicsr_zifencei', '-mabi=lp64',
  '-ffreestanding', '-fno-tree-loop-distribute-patterns', // no memset() calls inside memset()
  '-fno-stack-protector', '-fno-pic', '-fno-common', '-fno-asynchronous-unwind-tables', '-fno-unwind-tables',
  '-Wall', '-Wextra', `-ffile-prefix-map=${SRC}=.`,
  '-nostdlib', '-static', '-Wl,--build-id=none',
];

const args = process.argv.slice(2);
for (const a of args) {
  if (!['--update-prebuilt', '--check-prebuilt'].includes(a)) {
    console.error(`kernel: unknown option '${a}' (--update-prebuilt, --check-prebuilt)`);
    process.exit(2);
  }
}

const version = spawnSync(CC, ['--version'], { encoding: 'utf8' });
if (version.error || version.status !== 0) {
  console.error(`kernel: ${CC} not found (Debian: apt-get install gcc-riscv64-unknown-elf); ` +
    `the prebuilt ${relative(ROOT, PREBUILT)} can be run instead`);
  process.exit(3);
}
const toolchain = version.stdout.split('\n')[0];

class BuildError extends Error {}

/** Run the compiler in the source directory, so the objects name sources by relative path. */
function cc(out, sources, extra) {
  const r = spawnSync(CC, [...CFLAGS, ...extra, '-o', out, ...sources], { cwd: SRC, encoding: 'utf8' });
  if (r.stderr) process.stderr.write(r.stderr);
  if (r.status !== 0) throw new BuildError(`kernel: ${CC} failed building ${relative(ROOT, out).replace(/\.tmp-\w+/, '')}`);
}

// Build in a fresh directory, then move the results into place (a rename replaces a file
// atomically), so a run that reads the kernel meanwhile never sees half a file.
mkdirSync(dirname(OUT), { recursive: true });
const tmp = mkdtempSync(`${OUT}.tmp-`);
let failed = '';
try {
  mkdirSync(join(tmp, 'user'));
  for (const p of USER_PROGRAMS)
    cc(join(tmp, 'user', `${p}.elf`), [`user/${p}.c`, 'user/ulib.c', 'lib.c'], ['-T', 'user/user.ld', '-s']);
  for (const k of KERNELS) {
    const { sources, defines } = BUILDS[k];
    cc(join(tmp, k), [...COMMON_SOURCES.slice(0, 1), ...sources, ...COMMON_SOURCES.slice(1)],
      [...defines, '-T', 'kernel.ld', `-Wa,-I,${join(tmp, 'user')}`]);
  }
  mkdirSync(join(OUT, 'user'), { recursive: true });
  for (const f of [...USER_PROGRAMS.map((p) => `user/${p}.elf`), ...KERNELS])
    renameSync(join(tmp, f), join(OUT, f));
} catch (e) {
  if (!(e instanceof BuildError)) throw e;
  failed = e.message;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (failed) {
  console.error(failed);
  process.exit(1);
}
let differs = false;
for (const k of KERNELS) {
  const built = join(OUT, k);
  const prebuilt = join(SRC, 'prebuilt', k);
  const bytes = readFileSync(built);
  const sha = createHash('sha256').update(bytes).digest('hex');
  console.log(`kernel: ${relative(ROOT, built)} (${bytes.length} bytes, sha256 ${sha.slice(0, 16)})`);
  if (args.includes('--update-prebuilt')) {
    mkdirSync(dirname(prebuilt), { recursive: true });
    copyFileSync(built, prebuilt);
    console.log(`kernel: updated ${relative(ROOT, prebuilt)}`);
  }
  if (args.includes('--check-prebuilt')) {
    if (!existsSync(prebuilt)) {
      console.error(`kernel: no ${relative(ROOT, prebuilt)} (run node guests/kernel/build.mjs --update-prebuilt)`);
      differs = true;
    } else if (!bytes.equals(readFileSync(prebuilt))) {
      const was = existsSync(PREBUILT_TOOLCHAIN) ? readFileSync(PREBUILT_TOOLCHAIN, 'utf8').trim() : 'unknown';
      console.error(`kernel: the build differs from ${relative(ROOT, prebuilt)} ` +
        `(built with '${toolchain}', the prebuilt with '${was}'); run node guests/kernel/build.mjs --update-prebuilt`);
      differs = true;
    } else {
      console.log(`kernel: identical to ${relative(ROOT, prebuilt)}`);
    }
  }
}
if (args.includes('--update-prebuilt')) writeFileSync(PREBUILT_TOOLCHAIN, `${toolchain}\n`);
if (differs) process.exit(1);

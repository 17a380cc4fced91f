// Builds the browser front end (web/) into dist/web/: main.js (the page), worker.js (the
// Web Worker that owns the Machine), index.html and xterm.css. `npm run build:web`; tests
// call buildWeb() directly. The worker finds the core as src/core.ts does, at
// new URL('../build/core.wasm', import.meta.url): from dist/web/worker.js served at
// /web/worker.js, that is /build/core.wasm, which scripts/serve-web.mjs maps to build/.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** Type-check web/ (DOM + WebWorker libs, web/tsconfig.json); throws with tsc's report. */
export function typecheckWeb() {
  const tsc = require.resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '--noEmit', '-p', join(ROOT, 'web/tsconfig.json')], { cwd: ROOT, encoding: 'utf8' });
  } catch (e) {
    throw new Error(`web/: type errors\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** Bundle web/ into `outdir` (default dist/web). */
export async function buildWeb({ outdir = join(ROOT, 'dist/web'), typecheck = true } = {}) {
  if (typecheck) typecheckWeb();
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: { main: join(ROOT, 'web/main.ts'), worker: join(ROOT, 'web/worker.ts') },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    // src/core.ts imports node:fs/promises only when the core is a file: URL (Node)
    external: ['node:*'],
    logLevel: 'warning',
  });
  await copyFile(join(ROOT, 'web/index.html'), join(outdir, 'index.html'));
  await copyFile(require.resolve('@xterm/xterm/css/xterm.css'), join(outdir, 'xterm.css'));
  return outdir;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const out = await buildWeb();
    console.log(`web front end built into ${out}`);
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}

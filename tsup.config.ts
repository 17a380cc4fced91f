import { defineConfig } from 'tsup';

// ESM + CJS + .d.ts; the core stays a separate file (build/core.wasm) that src/core.ts
// finds relative to the bundle, so Node reads it and browsers fetch it.
export default defineConfig({
  entry: { index: 'src/index.ts', node: 'src/node.ts', cli: 'src/cli.ts', 'kvm-worker': 'src/kvm/worker.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  shims: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});

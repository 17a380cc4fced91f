#!/usr/bin/env node
// wasmvisor command line. Flags follow QEMU's names where QEMU has them.
import { readFileSync } from 'node:fs';
import { runBare } from './machines/bare.js';
import { LoadError } from './loader/elf.js';
import { STAT_NAMES } from './core.js';
import { disassemble } from './isa/disasm.js';

const PRIV_NAMES = ['U', 'S', '?', 'M'];

const MACHINE_TYPES = ['native', 'hypervisor', 'paravirt', 'full', 'hw-assist', 'kvm', 'container'] as const;

const USAGE = `usage: wasmvisor run [options]
  -kernel FILE        ELF64 RISC-V executable or raw image (raw images load at 0x80000000)
  -bios none          run the kernel from reset in M-mode, without firmware (required for now)
  -m SIZE             guest RAM, e.g. 128M, 1G (a bare number means MiB, as in QEMU); default 128M
  --type TYPE         virtualization type: ${MACHINE_TYPES.join('|')} (default native)
  --max-insns N       stop after N instructions
  --stats             print the event counters on exit (stderr)
  --trace             print every executed instruction, disassembled (stderr; slow)
  -h, --help          this text`;

class UsageError extends Error {}

export function parseSize(s: string): bigint {
  const m = /^(\d+)([KMGT]?)i?B?$/i.exec(s.trim());
  if (!m) throw new UsageError(`bad size '${s}' (examples: 512M, 1G)`);
  const unit = m[2].toUpperCase();
  const mult = { '': 1n << 20n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n }[unit]!;
  return BigInt(m[1]) * mult;
}

interface RunArgs {
  kernel?: string;
  bios?: string;
  memory: bigint;
  type: string;
  maxInsns?: bigint;
  stats: boolean;
  trace: boolean;
}

function parseRun(argv: string[]): RunArgs {
  const a: RunArgs = { memory: 128n << 20n, type: 'native', stats: false, trace: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-kernel': a.kernel = value(); break;
      case '-bios': a.bios = value(); break;
      case '-m': a.memory = parseSize(value()); break;
      case '--type': a.type = value(); break;
      case '--max-insns': {
        const v = value();
        if (!/^\d+$/.test(v)) throw new UsageError(`--max-insns takes a whole number, not '${v}'`);
        a.maxInsns = BigInt(v);
        break;
      }
      case '--stats': a.stats = true; break;
      case '--trace': a.trace = true; break;
      case '-h': case '--help': console.log(USAGE); process.exit(0);
      default: throw new UsageError(`unknown option '${flag}'`);
    }
  }
  if (!(MACHINE_TYPES as readonly string[]).includes(a.type))
    throw new UsageError(`unknown machine type '${a.type}' (one of: ${MACHINE_TYPES.join(', ')})`);
  if (a.type !== 'native') throw new UsageError(`machine type '${a.type}' is not implemented yet; only 'native' runs today`);
  if (!a.kernel) throw new UsageError('-kernel FILE is required');
  if (a.bios !== 'none')
    throw new UsageError(a.bios === undefined
      ? 'the built-in SBI firmware is not implemented yet: pass -bios none to run the kernel bare in M-mode'
      : `-bios ${a.bios}: only '-bios none' is supported for now`);
  return a;
}

async function cmdRun(argv: string[]): Promise<number> {
  const a = parseRun(argv);
  let image: Uint8Array;
  try {
    image = readFileSync(a.kernel!);
  } catch (e) {
    throw new LoadError(`cannot read ${a.kernel}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const r = await runBare({
    memory: a.memory,
    image,
    imageName: a.kernel,
    maxInstructions: a.maxInsns,
    onConsole: (b) => process.stdout.write(b),
    trace: a.trace
      ? (pc, insn, priv) => process.stderr.write(`${PRIV_NAMES[priv]} 0x${pc.toString(16).padStart(16, '0')}: ${disassemble(insn, pc)}\n`)
      : undefined,
  });
  const where = `pc 0x${r.pc.toString(16)} in ${PRIV_NAMES[r.priv]}-mode, after ${disassemble(r.lastInsn, undefined)}`;
  if (a.stats) {
    const s = r.stats;
    const lines = STAT_NAMES.map((n) => `${n.padEnd(14)} ${s[n]}`);
    const mips = Number(s.instret) / r.seconds / 1e6;
    lines.push(`${'seconds'.padEnd(14)} ${r.seconds.toFixed(3)}`, `${'MIPS'.padEnd(14)} ${mips.toFixed(1)}`);
    process.stderr.write(lines.join('\n') + '\n');
  }
  if (r.reason === 'limit') process.stderr.write(`wasmvisor: stopped after ${a.maxInsns} instructions (${where})\n`);
  if (r.reason === 'idle') {
    process.stderr.write(`wasmvisor: the hart is waiting (WFI) with no interrupt that can wake it (${where})\n`);
    return 1;
  }
  if (r.reason === 'fail') return r.status || 1;
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'run': return cmdRun(rest);
    case undefined: case '-h': case '--help': console.log(USAGE); return cmd ? 0 : 2;
    default: throw new UsageError(`unknown command '${cmd}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`wasmvisor: ${e.message}\n${USAGE.split('\n')[0]}\n`);
      process.exit(2);
    }
    if (e instanceof LoadError || e instanceof RangeError) {
      process.stderr.write(`wasmvisor: ${e.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`wasmvisor: internal error: ${(e as Error).stack ?? e}\n`);
    process.exit(70);
  },
);

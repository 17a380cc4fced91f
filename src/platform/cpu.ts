// The hart's model, written as QEMU's -cpu option is: `rv64[,<ext>=on|off]...`. One table of
// the extensions the hart has, which of them can be turned off, and the ISA string the device
// tree advertises (riscv,isa; riscv/extensions.yaml names).

export class CpuError extends RangeError {
  override name = 'CpuError';
}

interface Extension {
  /** -cpu property name (QEMU's) */
  name: string;
  /** false: always present (turning it off is an error) */
  optional: boolean;
  /** present unless turned off */
  default: boolean;
}

/** The extensions of the hart, in riscv,isa order: single letters, then Z* and the MMU modes. */
export const CPU_EXTENSIONS: readonly Extension[] = [
  ...['i', 'm', 'a', 'f', 'd', 'c'].map((name) => ({ name, optional: false, default: true })),
  // the hypervisor extension (privileged spec, "Hypervisor Extension"): on by default, as in QEMU
  { name: 'h', optional: true, default: true },
  ...['s', 'u', 'zicsr', 'zifencei', 'zicntr', 'sv39', 'sv48'].map((name) => ({ name, optional: false, default: true })),
];

export interface CpuModel {
  /** the hart has the H extension */
  h: boolean;
  /** riscv,isa for the device tree, e.g. rv64imafdch_zicntr_zicsr_zifencei */
  isa: string;
}

const ON = ['on', 'true', 'yes'];
const OFF = ['off', 'false', 'no'];

/** Parse a -cpu value (undefined: the default model). Throws CpuError with a one-line message. */
export function parseCpu(spec: string | undefined): CpuModel {
  const [model, ...props] = (spec ?? 'rv64').split(',');
  if (model !== 'rv64' && model !== 'any' && model !== 'max') throw new CpuError(`-cpu ${model}: the hart is an rv64 (rv64imafdch)`);
  const on = new Map(CPU_EXTENSIONS.map((e) => [e.name, e.default]));
  for (const p of props) {
    const [raw, v] = p.split('=');
    const name = raw.toLowerCase();
    const ext = CPU_EXTENSIONS.find((e) => e.name === name);
    if (!ext) throw new CpuError(`-cpu: extension '${raw}' is not implemented (the hart has ${CPU_EXTENSIONS.map((e) => e.name).join(', ')})`);
    if (v === undefined || ON.includes(v)) on.set(name, true);
    else if (OFF.includes(v)) {
      if (!ext.optional) throw new CpuError(`-cpu: extension '${raw}' cannot be turned off`);
      on.set(name, false);
    } else throw new CpuError(`-cpu: ${raw}=${v}: expected on or off`);
  }
  const letters = CPU_EXTENSIONS.filter((e) => e.name.length === 1 && 'imafdch'.includes(e.name) && on.get(e.name)).map((e) => e.name);
  return { h: on.get('h')!, isa: `rv64${letters.join('')}_zicntr_zicsr_zifencei` };
}

// The device tree of the board: QEMU 7.2's `virt` machine (hw/riscv/virt.c) with one hart,
// less the devices wasmvisor does not emulate (flash, PCIe, platform bus, fw_cfg, PMU).
// Bindings: Devicetree Specification v0.4 chapter 3 (root, /chosen, /memory, /cpus) and the
// Linux bindings riscv/cpus.yaml, sifive,plic-1.0.0.yaml, sifive,clint.yaml, syscon-*.yaml.
import { FdtWriter } from './fdt.js';
import { parseCpu } from './cpu.js';

export class BoardConfigError extends RangeError {
  override name = 'BoardConfigError';
}

export interface BoardConfig {
  /** DRAM size; DRAM starts at VIRT.dram.base */
  memoryBytes: bigint;
  /** riscv,isa of the hart (default: the default -cpu model's, platform/cpu.ts) */
  isa?: string;
  /** default 'riscv,sv48' */
  mmuType?: 'riscv,sv39' | 'riscv,sv48';
  /** /cpus timebase-frequency in Hz (default 10_000_000) */
  timebaseFrequency?: number;
  /** /chosen bootargs; the property is left out when undefined */
  bootargs?: string;
  /** /chosen linux,initrd-start / linux,initrd-end (end exclusive), 64-bit each */
  initrd?: { start: bigint; end: bigint };
  /** virtio-mmio transports, 0..8 (default 8): virtio_mmio@10001000.. with PLIC sources 1.. */
  virtioSlots?: number;
  /** /chosen rng-seed when given */
  rngSeed?: Uint8Array;
}

export interface VirtRegion {
  /** node name, without the unit address */
  readonly name: string;
  readonly base: bigint;
  readonly size: bigint;
  /** PLIC interrupt source */
  readonly irq?: number;
  /** consecutive copies, each `size` bytes further on and one interrupt source higher */
  readonly count?: number;
}

/** QEMU virt's memory map (virt_memmap[] and the *_IRQ enum of hw/riscv/virt.{c,h}). */
export const VIRT = {
  test: { name: 'test', base: 0x0010_0000n, size: 0x1000n },
  rtc: { name: 'rtc', base: 0x0010_1000n, size: 0x1000n, irq: 11 },
  clint: { name: 'clint', base: 0x0200_0000n, size: 0x1_0000n },
  plic: { name: 'plic', base: 0x0c00_0000n, size: 0x60_0000n },
  uart0: { name: 'serial', base: 0x1000_0000n, size: 0x100n, irq: 10 },
  virtio: { name: 'virtio_mmio', base: 0x1000_1000n, size: 0x1000n, irq: 1, count: 8 },
  /** size 0: it comes from BoardConfig.memoryBytes */
  dram: { name: 'memory', base: 0x8000_0000n, size: 0n },
} as const satisfies Record<string, VirtRegion>;

/** The most DRAM a board may have (what the 4 GiB Wasm memory leaves, assembly/memmap.ts RAM_MAX). */
export const DRAM_MAX = 0xfe00_0000n;
/** PLIC interrupt sources 1..95 (source 0 means "none"). */
export const PLIC_NDEV = 95;
/** ns16550a input clock (QEMU's 3.6864 MHz). */
export const UART_CLOCK_HZ = 3_686_400;
/** Values the syscon-poweroff / syscon-reboot nodes write to the sifive_test register. */
export const TEST_POWEROFF = 0x5555;
export const TEST_REBOOT = 0x7777;

const DEFAULTS = {
  isa: parseCpu(undefined).isa,
  mmuType: 'riscv,sv48',
  timebaseFrequency: 10_000_000,
  virtioSlots: VIRT.virtio.count,
} as const;

/** Phandles, numbered as QEMU 7.2 numbers them for one hart. */
const PHANDLE = { cpu0: 1, cpu0Intc: 2, plic: 3, test: 4 } as const;

/** Local interrupt numbers of the hart (privileged spec 3.1.9, mip/mie bits). */
const IRQ = { mSoft: 3, mTimer: 7, sExt: 9, mExt: 11 } as const;

/** riscv,isa-base and riscv,isa-extensions (riscv/extensions.yaml) from an ISA string. */
export function isaExtensions(isa: string): { base: string; extensions: string[] } {
  const m = /^rv(32|64)([a-z]+)((?:_[a-z][a-z0-9]*)*)$/.exec(isa);
  if (!m || !'ig'.includes(m[2][0]))
    throw new BoardConfigError(`isa ${JSON.stringify(isa)}: expected rv32/rv64, base i or g, then letters and _-separated extensions`);
  const single = [...m[2]].flatMap((c) => (c === 'g' ? ['i', 'm', 'a', 'f', 'd', 'zicsr', 'zifencei'] : [c]));
  const multi = m[3].split('_').filter(Boolean);
  return { base: `rv${m[1]}i`, extensions: [...new Set([...single, ...multi])] };
}

function validate(cfg: BoardConfig) {
  const mem = cfg.memoryBytes;
  if (typeof mem !== 'bigint' || mem <= 0n || mem % 4096n !== 0n || mem > DRAM_MAX)
    throw new BoardConfigError(`memoryBytes ${mem}: must be a positive multiple of 4 KiB up to ${DRAM_MAX} (0x${DRAM_MAX.toString(16)})`);
  const dramEnd = VIRT.dram.base + mem;
  const { initrd } = cfg;
  if (initrd) {
    if (initrd.end < initrd.start)
      throw new BoardConfigError(`initrd: end 0x${initrd.end.toString(16)} is below start 0x${initrd.start.toString(16)}`);
    if (initrd.start < VIRT.dram.base || initrd.end > dramEnd)
      throw new BoardConfigError(
        `initrd 0x${initrd.start.toString(16)}..0x${initrd.end.toString(16)} lies outside DRAM ` +
          `0x${VIRT.dram.base.toString(16)}..0x${dramEnd.toString(16)}`,
      );
  }
  const virtioSlots = cfg.virtioSlots ?? DEFAULTS.virtioSlots;
  if (!Number.isInteger(virtioSlots) || virtioSlots < 0 || virtioSlots > VIRT.virtio.count)
    throw new BoardConfigError(`virtioSlots ${virtioSlots}: must be an integer 0..${VIRT.virtio.count}`);
  if (cfg.bootargs?.includes('\0')) throw new BoardConfigError('bootargs: contains a NUL character');
  const timebaseFrequency = cfg.timebaseFrequency ?? DEFAULTS.timebaseFrequency;
  if (!Number.isInteger(timebaseFrequency) || timebaseFrequency <= 0 || timebaseFrequency > 0xffff_ffff)
    throw new BoardConfigError(`timebaseFrequency ${timebaseFrequency}: must be a positive 32-bit integer`);
  const mmuType = cfg.mmuType ?? DEFAULTS.mmuType;
  if (mmuType !== 'riscv,sv39' && mmuType !== 'riscv,sv48')
    throw new BoardConfigError(`mmuType ${JSON.stringify(mmuType)}: must be riscv,sv39 or riscv,sv48`);
  const isa = cfg.isa ?? DEFAULTS.isa;
  return { ...cfg, isa, isaParts: isaExtensions(isa), mmuType, timebaseFrequency, virtioSlots };
}

/** The flattened device tree for a board, laid out like QEMU 7.2's `-M virt -smp 1` dumpdtb. */
export function buildDeviceTree(cfg: BoardConfig): Uint8Array {
  const c = validate(cfg);
  const w = new FdtWriter();
  const node = (name: string, body: () => void) => {
    w.beginNode(name);
    body();
    w.endNode();
  };
  const unitName = (name: string, base: bigint) => `${name}@${base.toString(16)}`;
  /** A /soc device wired to a PLIC source. */
  const plicDevice = (r: VirtRegion, slot: number, compatible: string[], extra = () => {}) => {
    const base = r.base + BigInt(slot) * r.size;
    node(unitName(r.name, base), () => {
      w.propU32('interrupts', r.irq! + slot);
      w.propU32('interrupt-parent', PHANDLE.plic);
      extra();
      w.propU64('reg', base, r.size);
      w.propStrings('compatible', ...compatible);
    });
  };
  /** syscon-poweroff / syscon-reboot: write `value` to the sifive_test register (Linux power/reset bindings). */
  const syscon = (name: string, value: number) =>
    node(name, () => {
      w.propU32('value', value);
      w.propU32('offset', 0);
      w.propU32('regmap', PHANDLE.test);
      w.propString('compatible', `syscon-${name}`);
    });

  node('', () => {
    // 3.2 root node
    w.propU32('#address-cells', 2);
    w.propU32('#size-cells', 2);
    w.propString('compatible', 'riscv-virtio');
    w.propString('model', 'riscv-virtio,qemu');

    // 3.6 /chosen
    node('chosen', () => {
      if (c.bootargs !== undefined) w.propString('bootargs', c.bootargs);
      if (c.initrd) {
        w.propU64('linux,initrd-start', c.initrd.start);
        w.propU64('linux,initrd-end', c.initrd.end);
      }
      if (c.rngSeed) w.prop('rng-seed', c.rngSeed);
      w.propString('stdout-path', `/soc/${unitName(VIRT.uart0.name, VIRT.uart0.base)}`);
    });

    syscon('poweroff', TEST_POWEROFF);
    syscon('reboot', TEST_REBOOT);

    // 3.4 /memory
    node(unitName(VIRT.dram.name, VIRT.dram.base), () => {
      w.propString('device_type', 'memory');
      w.propU64('reg', VIRT.dram.base, c.memoryBytes);
    });

    // 3.7 /cpus and 3.8 cpu nodes; riscv/cpus.yaml
    node('cpus', () => {
      w.propU32('#address-cells', 1);
      w.propU32('#size-cells', 0);
      w.propU32('timebase-frequency', c.timebaseFrequency);
      node('cpu@0', () => {
        w.propU32('phandle', PHANDLE.cpu0);
        w.propString('device_type', 'cpu');
        w.propU32('reg', 0);
        w.propString('status', 'okay');
        w.propString('compatible', 'riscv');
        w.propString('riscv,isa', c.isa);
        w.propString('riscv,isa-base', c.isaParts.base);
        w.propStrings('riscv,isa-extensions', ...c.isaParts.extensions);
        w.propString('mmu-type', c.mmuType);
        node('interrupt-controller', () => {
          w.propU32('#interrupt-cells', 1);
          w.propEmpty('interrupt-controller');
          w.propString('compatible', 'riscv,cpu-intc');
          w.propU32('phandle', PHANDLE.cpu0Intc);
        });
      });
      node('cpu-map', () => node('cluster0', () => node('core0', () => w.propU32('cpu', PHANDLE.cpu0))));
    });

    // 4.5 simple-bus holding the MMIO devices, in QEMU's order.
    node('soc', () => {
      w.propU32('#address-cells', 2);
      w.propU32('#size-cells', 2);
      w.propString('compatible', 'simple-bus');
      w.propEmpty('ranges');

      plicDevice(VIRT.rtc, 0, ['google,goldfish-rtc']);
      plicDevice(VIRT.uart0, 0, ['ns16550a'], () => w.propU32('clock-frequency', UART_CLOCK_HZ));
      node(unitName(VIRT.test.name, VIRT.test.base), () => {
        w.propU32('phandle', PHANDLE.test);
        w.propU64('reg', VIRT.test.base, VIRT.test.size);
        w.propStrings('compatible', 'sifive,test1', 'sifive,test0', 'syscon');
      });
      // QEMU creates the transports from the last down, each inserted first.
      for (let slot = c.virtioSlots - 1; slot >= 0; slot--) plicDevice(VIRT.virtio, slot, ['virtio,mmio']);
      // Context 0 is the hart's M-mode external interrupt, context 1 its S-mode one.
      node(unitName(VIRT.plic.name, VIRT.plic.base), () => {
        w.propU32('phandle', PHANDLE.plic);
        w.propU32('riscv,ndev', PLIC_NDEV);
        w.propU64('reg', VIRT.plic.base, VIRT.plic.size);
        w.propU32('interrupts-extended', PHANDLE.cpu0Intc, IRQ.mExt, PHANDLE.cpu0Intc, IRQ.sExt);
        w.propEmpty('interrupt-controller');
        w.propStrings('compatible', 'sifive,plic-1.0.0', 'riscv,plic0');
        w.propU32('#address-cells', 0);
        w.propU32('#interrupt-cells', 1);
      });
      node(unitName(VIRT.clint.name, VIRT.clint.base), () => {
        w.propU32('interrupts-extended', PHANDLE.cpu0Intc, IRQ.mSoft, PHANDLE.cpu0Intc, IRQ.mTimer);
        w.propU64('reg', VIRT.clint.base, VIRT.clint.size);
        w.propStrings('compatible', 'sifive,clint0', 'riscv,clint0');
      });
    });
  });
  return w.finish({ bootCpuId: 0 });
}

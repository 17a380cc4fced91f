// wasmvisor: the public API.
export { Core, Exit, STAT_NAMES, GuestMemoryError, type CoreStats } from './core.js';
export { encode, decode, type Decoded, type Operands } from './isa/encode.js';
export { disassemble, csrName } from './isa/disasm.js';
export { Program, R, RAM } from './isa/assembler.js';
export { parseElf, isElf, LoadError, type ElfImage } from './loader/elf.js';
export { runBare, loadImage, type BareOptions, type BareResult } from './machines/bare.js';
export { parseLinuxImage, isLinuxImage, type LinuxImage } from './loader/image.js';
export {
  createMachine, Machine, ConfigError, MACHINE_TYPES, IMPLEMENTED_TYPES, parseSize,
  type MachineOptions, type MachineResult, type MachineStats, type MachineType, type DriveOptions, type StopReason,
  type BootLayout, type DeviceStats,
} from './machine.js';
export { buildDeviceTree, VIRT, BoardConfigError, type BoardConfig } from './platform/devicetree.js';
export { FdtWriter, parseFdt, FdtError, type FdtNode } from './platform/fdt.js';
export {
  VirtioMmio, BlockDevice, ConsoleDevice, RngDevice, NetDevice, MemoryBackend, OverlayBackend, UrlBackend,
  type BlockBackend, type GuestMemory,
} from './devices/virtio/index.js';
export { runBench, formatBenchTable, benchHtml, BENCHMARKS, BENCHMARK_NAMES, BENCH_TYPES, MACHINE_VARIANTS, benchMachine, teachingKernel, runKernelOnce, benchLineOf, type KernelRun, type BenchLine, type BenchOptions, type BenchReport, type BenchResult, type BenchSample, type BenchmarkName } from './bench.js';
// the kvm machine: a /dev/kvm-shaped API (each VM in its own worker) and its userspace VMM
export { Kvm, Vm, Vcpu, type KvmOptions } from './kvm/kvm.js';
export * from './kvm/uapi.js';
export type { MemoryRegion, RunOptions, VmOptions } from './kvm/kernel.js';
export { KvmMachine, KvmMachineError, type KvmMachineConfig } from './kvm/machine.js';
export type { VmmResult, VmmStats, VmmStopReason } from './kvm/vmm.js';

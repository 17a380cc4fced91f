// wasmvisor: the public API.
export { Core, Exit, STAT_NAMES, GuestMemoryError, type CoreStats } from './core.js';
export { encode, decode, type Decoded, type Operands } from './isa/encode.js';
export { disassemble, csrName } from './isa/disasm.js';
export { Program, R, RAM } from './isa/assembler.js';
export { parseElf, isElf, LoadError, type ElfImage } from './loader/elf.js';
export { runBare, loadImage, type BareOptions, type BareResult } from './machines/bare.js';

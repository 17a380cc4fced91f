// wasmvisor: the public API.
export { Core, Exit, STAT_NAMES, GuestMemoryError, type CoreStats } from './core.js';
export { encode, decode, type Decoded, type Operands } from './isa/encode.js';
export { disassemble, csrName } from './isa/disasm.js';

// Tests use the public assembler.
export { Program, R, RAM } from '../../src/isa/assembler.js';

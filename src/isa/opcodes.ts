// The one source of truth for RV64GC instruction encodings.
//
// 32-bit instructions are written in the format of the official riscv-opcodes tables
// (github.com/riscv/riscv-opcodes): a name, its operand fields, then fixed bit ranges
// `hi..lo=value` (or `bit=value`). From these lines scripts/gen-opcodes.mjs generates the
// AssemblyScript decoder (assembly/hart/opcodes.gen.ts); src/isa/disasm.ts and
// src/isa/encode.ts read the same table at run time.
//
// Compressed instructions (RVC, ISA manual "C" chapter) are a second table below: each
// expands to a base instruction, with its immediate's bit scramble written once.

export const RV64G = `
# ---- RV32I / RV64I (unprivileged spec, chapter "RV32I Base Integer Instruction Set")
lui       rd imm20                         6..2=0x0D 1..0=3
auipc     rd imm20                         6..2=0x05 1..0=3
jal       rd jimm20                        6..2=0x1b 1..0=3
jalr      rd rs1 imm12           14..12=0  6..2=0x19 1..0=3
beq       bimm12 rs1 rs2         14..12=0  6..2=0x18 1..0=3
bne       bimm12 rs1 rs2         14..12=1  6..2=0x18 1..0=3
blt       bimm12 rs1 rs2         14..12=4  6..2=0x18 1..0=3
bge       bimm12 rs1 rs2         14..12=5  6..2=0x18 1..0=3
bltu      bimm12 rs1 rs2         14..12=6  6..2=0x18 1..0=3
bgeu      bimm12 rs1 rs2         14..12=7  6..2=0x18 1..0=3
lb        rd rs1 imm12           14..12=0  6..2=0x00 1..0=3
lh        rd rs1 imm12           14..12=1  6..2=0x00 1..0=3
lw        rd rs1 imm12           14..12=2  6..2=0x00 1..0=3
ld        rd rs1 imm12           14..12=3  6..2=0x00 1..0=3
lbu       rd rs1 imm12           14..12=4  6..2=0x00 1..0=3
lhu       rd rs1 imm12           14..12=5  6..2=0x00 1..0=3
lwu       rd rs1 imm12           14..12=6  6..2=0x00 1..0=3
sb        simm12 rs1 rs2         14..12=0  6..2=0x08 1..0=3
sh        simm12 rs1 rs2         14..12=1  6..2=0x08 1..0=3
sw        simm12 rs1 rs2         14..12=2  6..2=0x08 1..0=3
sd        simm12 rs1 rs2         14..12=3  6..2=0x08 1..0=3
addi      rd rs1 imm12           14..12=0  6..2=0x04 1..0=3
slti      rd rs1 imm12           14..12=2  6..2=0x04 1..0=3
sltiu     rd rs1 imm12           14..12=3  6..2=0x04 1..0=3
xori      rd rs1 imm12           14..12=4  6..2=0x04 1..0=3
ori       rd rs1 imm12           14..12=6  6..2=0x04 1..0=3
andi      rd rs1 imm12           14..12=7  6..2=0x04 1..0=3
slli      rd rs1 shamtd  31..26=0  14..12=1 6..2=0x04 1..0=3
srli      rd rs1 shamtd  31..26=0  14..12=5 6..2=0x04 1..0=3
srai      rd rs1 shamtd  31..26=16 14..12=5 6..2=0x04 1..0=3
add       rd rs1 rs2     31..25=0  14..12=0 6..2=0x0C 1..0=3
sub       rd rs1 rs2     31..25=32 14..12=0 6..2=0x0C 1..0=3
sll       rd rs1 rs2     31..25=0  14..12=1 6..2=0x0C 1..0=3
slt       rd rs1 rs2     31..25=0  14..12=2 6..2=0x0C 1..0=3
sltu      rd rs1 rs2     31..25=0  14..12=3 6..2=0x0C 1..0=3
xor       rd rs1 rs2     31..25=0  14..12=4 6..2=0x0C 1..0=3
srl       rd rs1 rs2     31..25=0  14..12=5 6..2=0x0C 1..0=3
sra       rd rs1 rs2     31..25=32 14..12=5 6..2=0x0C 1..0=3
or        rd rs1 rs2     31..25=0  14..12=6 6..2=0x0C 1..0=3
and       rd rs1 rs2     31..25=0  14..12=7 6..2=0x0C 1..0=3
addiw     rd rs1 imm12           14..12=0  6..2=0x06 1..0=3
slliw     rd rs1 shamtw  31..25=0  14..12=1 6..2=0x06 1..0=3
srliw     rd rs1 shamtw  31..25=0  14..12=5 6..2=0x06 1..0=3
sraiw     rd rs1 shamtw  31..25=32 14..12=5 6..2=0x06 1..0=3
addw      rd rs1 rs2     31..25=0  14..12=0 6..2=0x0E 1..0=3
subw      rd rs1 rs2     31..25=32 14..12=0 6..2=0x0E 1..0=3
sllw      rd rs1 rs2     31..25=0  14..12=1 6..2=0x0E 1..0=3
srlw      rd rs1 rs2     31..25=0  14..12=5 6..2=0x0E 1..0=3
sraw      rd rs1 rs2     31..25=32 14..12=5 6..2=0x0E 1..0=3
fence     fm pred succ rs1 rd    14..12=0  6..2=0x03 1..0=3
ecall     31..20=0x000 19..15=0 14..12=0 11..7=0 6..2=0x1C 1..0=3
ebreak    31..20=0x001 19..15=0 14..12=0 11..7=0 6..2=0x1C 1..0=3

# ---- Zifencei
fence.i   imm12 rs1 rd           14..12=1  6..2=0x03 1..0=3

# ---- Zicsr
csrrw     rd rs1 csr             14..12=1  6..2=0x1C 1..0=3
csrrs     rd rs1 csr             14..12=2  6..2=0x1C 1..0=3
csrrc     rd rs1 csr             14..12=3  6..2=0x1C 1..0=3
csrrwi    rd zimm csr            14..12=5  6..2=0x1C 1..0=3
csrrsi    rd zimm csr            14..12=6  6..2=0x1C 1..0=3
csrrci    rd zimm csr            14..12=7  6..2=0x1C 1..0=3

# ---- Privileged (privileged spec, "Machine-Level ISA" and "Supervisor-Level ISA")
sret      31..20=0x102 19..15=0 14..12=0 11..7=0 6..2=0x1C 1..0=3
mret      31..20=0x302 19..15=0 14..12=0 11..7=0 6..2=0x1C 1..0=3
wfi       31..20=0x105 19..15=0 14..12=0 11..7=0 6..2=0x1C 1..0=3
sfence.vma rs1 rs2 31..25=0x09 14..12=0 11..7=0 6..2=0x1C 1..0=3

# ---- M
mul       rd rs1 rs2     31..25=1  14..12=0 6..2=0x0C 1..0=3
mulh      rd rs1 rs2     31..25=1  14..12=1 6..2=0x0C 1..0=3
mulhsu    rd rs1 rs2     31..25=1  14..12=2 6..2=0x0C 1..0=3
mulhu     rd rs1 rs2     31..25=1  14..12=3 6..2=0x0C 1..0=3
div       rd rs1 rs2     31..25=1  14..12=4 6..2=0x0C 1..0=3
divu      rd rs1 rs2     31..25=1  14..12=5 6..2=0x0C 1..0=3
rem       rd rs1 rs2     31..25=1  14..12=6 6..2=0x0C 1..0=3
remu      rd rs1 rs2     31..25=1  14..12=7 6..2=0x0C 1..0=3
mulw      rd rs1 rs2     31..25=1  14..12=0 6..2=0x0E 1..0=3
divw      rd rs1 rs2     31..25=1  14..12=4 6..2=0x0E 1..0=3
divuw     rd rs1 rs2     31..25=1  14..12=5 6..2=0x0E 1..0=3
remw      rd rs1 rs2     31..25=1  14..12=6 6..2=0x0E 1..0=3
remuw     rd rs1 rs2     31..25=1  14..12=7 6..2=0x0E 1..0=3

# ---- A
lr.w      rd rs1 aq rl   31..27=0x02 24..20=0 14..12=2 6..2=0x0B 1..0=3
sc.w      rd rs1 rs2 aq rl 31..27=0x03 14..12=2 6..2=0x0B 1..0=3
amoswap.w rd rs1 rs2 aq rl 31..27=0x01 14..12=2 6..2=0x0B 1..0=3
amoadd.w  rd rs1 rs2 aq rl 31..27=0x00 14..12=2 6..2=0x0B 1..0=3
amoxor.w  rd rs1 rs2 aq rl 31..27=0x04 14..12=2 6..2=0x0B 1..0=3
amoand.w  rd rs1 rs2 aq rl 31..27=0x0C 14..12=2 6..2=0x0B 1..0=3
amoor.w   rd rs1 rs2 aq rl 31..27=0x08 14..12=2 6..2=0x0B 1..0=3
amomin.w  rd rs1 rs2 aq rl 31..27=0x10 14..12=2 6..2=0x0B 1..0=3
amomax.w  rd rs1 rs2 aq rl 31..27=0x14 14..12=2 6..2=0x0B 1..0=3
amominu.w rd rs1 rs2 aq rl 31..27=0x18 14..12=2 6..2=0x0B 1..0=3
amomaxu.w rd rs1 rs2 aq rl 31..27=0x1C 14..12=2 6..2=0x0B 1..0=3
lr.d      rd rs1 aq rl   31..27=0x02 24..20=0 14..12=3 6..2=0x0B 1..0=3
sc.d      rd rs1 rs2 aq rl 31..27=0x03 14..12=3 6..2=0x0B 1..0=3
amoswap.d rd rs1 rs2 aq rl 31..27=0x01 14..12=3 6..2=0x0B 1..0=3
amoadd.d  rd rs1 rs2 aq rl 31..27=0x00 14..12=3 6..2=0x0B 1..0=3
amoxor.d  rd rs1 rs2 aq rl 31..27=0x04 14..12=3 6..2=0x0B 1..0=3
amoand.d  rd rs1 rs2 aq rl 31..27=0x0C 14..12=3 6..2=0x0B 1..0=3
amoor.d   rd rs1 rs2 aq rl 31..27=0x08 14..12=3 6..2=0x0B 1..0=3
amomin.d  rd rs1 rs2 aq rl 31..27=0x10 14..12=3 6..2=0x0B 1..0=3
amomax.d  rd rs1 rs2 aq rl 31..27=0x14 14..12=3 6..2=0x0B 1..0=3
amominu.d rd rs1 rs2 aq rl 31..27=0x18 14..12=3 6..2=0x0B 1..0=3
amomaxu.d rd rs1 rs2 aq rl 31..27=0x1C 14..12=3 6..2=0x0B 1..0=3

# ---- F
flw       frd rs1 imm12          14..12=2  6..2=0x01 1..0=3
fsw       simm12 rs1 frs2        14..12=2  6..2=0x09 1..0=3
fmadd.s   frd frs1 frs2 frs3 rm  26..25=0  6..2=0x10 1..0=3
fmsub.s   frd frs1 frs2 frs3 rm  26..25=0  6..2=0x11 1..0=3
fnmsub.s  frd frs1 frs2 frs3 rm  26..25=0  6..2=0x12 1..0=3
fnmadd.s  frd frs1 frs2 frs3 rm  26..25=0  6..2=0x13 1..0=3
fadd.s    frd frs1 frs2 rm  31..27=0x00 26..25=0 6..2=0x14 1..0=3
fsub.s    frd frs1 frs2 rm  31..27=0x01 26..25=0 6..2=0x14 1..0=3
fmul.s    frd frs1 frs2 rm  31..27=0x02 26..25=0 6..2=0x14 1..0=3
fdiv.s    frd frs1 frs2 rm  31..27=0x03 26..25=0 6..2=0x14 1..0=3
fsqrt.s   frd frs1 rm  31..27=0x0B 26..25=0 24..20=0 6..2=0x14 1..0=3
fsgnj.s   frd frs1 frs2 31..27=0x04 26..25=0 14..12=0 6..2=0x14 1..0=3
fsgnjn.s  frd frs1 frs2 31..27=0x04 26..25=0 14..12=1 6..2=0x14 1..0=3
fsgnjx.s  frd frs1 frs2 31..27=0x04 26..25=0 14..12=2 6..2=0x14 1..0=3
fmin.s    frd frs1 frs2 31..27=0x05 26..25=0 14..12=0 6..2=0x14 1..0=3
fmax.s    frd frs1 frs2 31..27=0x05 26..25=0 14..12=1 6..2=0x14 1..0=3
fcvt.w.s  rd frs1 rm   31..27=0x18 26..25=0 24..20=0 6..2=0x14 1..0=3
fcvt.wu.s rd frs1 rm   31..27=0x18 26..25=0 24..20=1 6..2=0x14 1..0=3
fcvt.l.s  rd frs1 rm   31..27=0x18 26..25=0 24..20=2 6..2=0x14 1..0=3
fcvt.lu.s rd frs1 rm   31..27=0x18 26..25=0 24..20=3 6..2=0x14 1..0=3
fmv.x.w   rd frs1      31..27=0x1C 26..25=0 24..20=0 14..12=0 6..2=0x14 1..0=3
fclass.s  rd frs1      31..27=0x1C 26..25=0 24..20=0 14..12=1 6..2=0x14 1..0=3
feq.s     rd frs1 frs2 31..27=0x14 26..25=0 14..12=2 6..2=0x14 1..0=3
flt.s     rd frs1 frs2 31..27=0x14 26..25=0 14..12=1 6..2=0x14 1..0=3
fle.s     rd frs1 frs2 31..27=0x14 26..25=0 14..12=0 6..2=0x14 1..0=3
fcvt.s.w  frd rs1 rm   31..27=0x1A 26..25=0 24..20=0 6..2=0x14 1..0=3
fcvt.s.wu frd rs1 rm   31..27=0x1A 26..25=0 24..20=1 6..2=0x14 1..0=3
fcvt.s.l  frd rs1 rm   31..27=0x1A 26..25=0 24..20=2 6..2=0x14 1..0=3
fcvt.s.lu frd rs1 rm   31..27=0x1A 26..25=0 24..20=3 6..2=0x14 1..0=3
fmv.w.x   frd rs1      31..27=0x1E 26..25=0 24..20=0 14..12=0 6..2=0x14 1..0=3

# ---- D
fld       frd rs1 imm12          14..12=3  6..2=0x01 1..0=3
fsd       simm12 rs1 frs2        14..12=3  6..2=0x09 1..0=3
fmadd.d   frd frs1 frs2 frs3 rm  26..25=1  6..2=0x10 1..0=3
fmsub.d   frd frs1 frs2 frs3 rm  26..25=1  6..2=0x11 1..0=3
fnmsub.d  frd frs1 frs2 frs3 rm  26..25=1  6..2=0x12 1..0=3
fnmadd.d  frd frs1 frs2 frs3 rm  26..25=1  6..2=0x13 1..0=3
fadd.d    frd frs1 frs2 rm  31..27=0x00 26..25=1 6..2=0x14 1..0=3
fsub.d    frd frs1 frs2 rm  31..27=0x01 26..25=1 6..2=0x14 1..0=3
fmul.d    frd frs1 frs2 rm  31..27=0x02 26..25=1 6..2=0x14 1..0=3
fdiv.d    frd frs1 frs2 rm  31..27=0x03 26..25=1 6..2=0x14 1..0=3
fsqrt.d   frd frs1 rm  31..27=0x0B 26..25=1 24..20=0 6..2=0x14 1..0=3
fsgnj.d   frd frs1 frs2 31..27=0x04 26..25=1 14..12=0 6..2=0x14 1..0=3
fsgnjn.d  frd frs1 frs2 31..27=0x04 26..25=1 14..12=1 6..2=0x14 1..0=3
fsgnjx.d  frd frs1 frs2 31..27=0x04 26..25=1 14..12=2 6..2=0x14 1..0=3
fmin.d    frd frs1 frs2 31..27=0x05 26..25=1 14..12=0 6..2=0x14 1..0=3
fmax.d    frd frs1 frs2 31..27=0x05 26..25=1 14..12=1 6..2=0x14 1..0=3
fcvt.s.d  frd frs1 rm  31..27=0x08 26..25=0 24..20=1 6..2=0x14 1..0=3
fcvt.d.s  frd frs1 rm  31..27=0x08 26..25=1 24..20=0 6..2=0x14 1..0=3
feq.d     rd frs1 frs2 31..27=0x14 26..25=1 14..12=2 6..2=0x14 1..0=3
flt.d     rd frs1 frs2 31..27=0x14 26..25=1 14..12=1 6..2=0x14 1..0=3
fle.d     rd frs1 frs2 31..27=0x14 26..25=1 14..12=0 6..2=0x14 1..0=3
fclass.d  rd frs1      31..27=0x1C 26..25=1 24..20=0 14..12=1 6..2=0x14 1..0=3
fcvt.w.d  rd frs1 rm   31..27=0x18 26..25=1 24..20=0 6..2=0x14 1..0=3
fcvt.wu.d rd frs1 rm   31..27=0x18 26..25=1 24..20=1 6..2=0x14 1..0=3
fcvt.l.d  rd frs1 rm   31..27=0x18 26..25=1 24..20=2 6..2=0x14 1..0=3
fcvt.lu.d rd frs1 rm   31..27=0x18 26..25=1 24..20=3 6..2=0x14 1..0=3
fmv.x.d   rd frs1      31..27=0x1C 26..25=1 24..20=0 14..12=0 6..2=0x14 1..0=3
fcvt.d.w  frd rs1 rm   31..27=0x1A 26..25=1 24..20=0 6..2=0x14 1..0=3
fcvt.d.wu frd rs1 rm   31..27=0x1A 26..25=1 24..20=1 6..2=0x14 1..0=3
fcvt.d.l  frd rs1 rm   31..27=0x1A 26..25=1 24..20=2 6..2=0x14 1..0=3
fcvt.d.lu frd rs1 rm   31..27=0x1A 26..25=1 24..20=3 6..2=0x14 1..0=3
fmv.d.x   frd rs1      31..27=0x1E 26..25=1 24..20=0 14..12=0 6..2=0x14 1..0=3

# ---- H (privileged spec, "Hypervisor Extension": hypervisor virtual-machine load/store and
# memory-management fence instructions). After D: the F/D ops must stay one range.
hfence.vvma rs1 rs2 31..25=0x11 14..12=0 11..7=0 6..2=0x1C 1..0=3
hfence.gvma rs1 rs2 31..25=0x31 14..12=0 11..7=0 6..2=0x1C 1..0=3
hlv.b     rd rs1   31..25=0x30 24..20=0 14..12=4 6..2=0x1C 1..0=3
hlv.bu    rd rs1   31..25=0x30 24..20=1 14..12=4 6..2=0x1C 1..0=3
hlv.h     rd rs1   31..25=0x32 24..20=0 14..12=4 6..2=0x1C 1..0=3
hlv.hu    rd rs1   31..25=0x32 24..20=1 14..12=4 6..2=0x1C 1..0=3
hlvx.hu   rd rs1   31..25=0x32 24..20=3 14..12=4 6..2=0x1C 1..0=3
hlv.w     rd rs1   31..25=0x34 24..20=0 14..12=4 6..2=0x1C 1..0=3
hlv.wu    rd rs1   31..25=0x34 24..20=1 14..12=4 6..2=0x1C 1..0=3
hlvx.wu   rd rs1   31..25=0x34 24..20=3 14..12=4 6..2=0x1C 1..0=3
hlv.d     rd rs1   31..25=0x36 24..20=0 14..12=4 6..2=0x1C 1..0=3
hsv.b     rs1 rs2  31..25=0x31 14..12=4 11..7=0 6..2=0x1C 1..0=3
hsv.h     rs1 rs2  31..25=0x33 14..12=4 11..7=0 6..2=0x1C 1..0=3
hsv.w     rs1 rs2  31..25=0x35 14..12=4 11..7=0 6..2=0x1C 1..0=3
hsv.d     rs1 rs2  31..25=0x37 14..12=4 11..7=0 6..2=0x1C 1..0=3
`;

/** Operand fields of 32-bit instructions: bit range, and how an immediate is scattered. */
export interface FieldDef {
  /** [instruction hi bit, lo bit, value's lo bit] segments */
  segs: [number, number, number][];
  signed?: boolean;
  kind: 'xreg' | 'freg' | 'imm' | 'csr' | 'rm' | 'other';
}

export const FIELDS: Record<string, FieldDef> = {
  rd: { segs: [[11, 7, 0]], kind: 'xreg' },
  rs1: { segs: [[19, 15, 0]], kind: 'xreg' },
  rs2: { segs: [[24, 20, 0]], kind: 'xreg' },
  frd: { segs: [[11, 7, 0]], kind: 'freg' },
  frs1: { segs: [[19, 15, 0]], kind: 'freg' },
  frs2: { segs: [[24, 20, 0]], kind: 'freg' },
  frs3: { segs: [[31, 27, 0]], kind: 'freg' },
  rm: { segs: [[14, 12, 0]], kind: 'rm' },
  imm12: { segs: [[31, 20, 0]], signed: true, kind: 'imm' },
  simm12: { segs: [[31, 25, 5], [11, 7, 0]], signed: true, kind: 'imm' },
  bimm12: { segs: [[31, 31, 12], [30, 25, 5], [11, 8, 1], [7, 7, 11]], signed: true, kind: 'imm' },
  imm20: { segs: [[31, 12, 12]], signed: true, kind: 'imm' },
  jimm20: { segs: [[31, 31, 20], [30, 21, 1], [20, 20, 11], [19, 12, 12]], signed: true, kind: 'imm' },
  shamtd: { segs: [[25, 20, 0]], kind: 'imm' },
  shamtw: { segs: [[24, 20, 0]], kind: 'imm' },
  csr: { segs: [[31, 20, 0]], kind: 'csr' },
  zimm: { segs: [[19, 15, 0]], kind: 'imm' },
  aq: { segs: [[26, 26, 0]], kind: 'other' },
  rl: { segs: [[25, 25, 0]], kind: 'other' },
  fm: { segs: [[31, 28, 0]], kind: 'other' },
  pred: { segs: [[27, 24, 0]], kind: 'other' },
  succ: { segs: [[23, 20, 0]], kind: 'other' },
};

/**
 * RVC (ISA manual, "C" Standard Extension for Compressed Instructions, RV64 column).
 * Each row: name, fixed bits, the base instruction it expands to, and its operands:
 *   rd/rs1/rs2 are `field` names below or a constant register number;
 *   `imm` names an immediate scramble in C_IMMS.
 * `when` narrows an encoding shared by two instructions (c.lui/c.addi16sp, c.jr/c.mv, …);
 * `reserved` marks the encodings the spec reserves (they decode as illegal).
 * Rows are tried in order; the first whose fixed bits and `when` hold wins.
 */
export interface CDef {
  name: string;
  fixed: string;
  base: string;
  rd?: string | number;
  rs1?: string | number;
  rs2?: string | number;
  imm?: string;
  when?: string;
  reserved?: string;
}

/** Register fields of RVC: full 5-bit ones and the 3-bit x8..x15 ones ("primed"). */
export const C_REGS: Record<string, { hi: number; lo: number; primed: boolean }> = {
  rd: { hi: 11, lo: 7, primed: false },
  rs2: { hi: 6, lo: 2, primed: false },
  'rd\'': { hi: 4, lo: 2, primed: true },
  'rs1\'': { hi: 9, lo: 7, primed: true },
  'rs2\'': { hi: 4, lo: 2, primed: true },
};

/** RVC immediates: instruction bit ranges and the value bits they carry, high to low. */
export const C_IMMS: Record<string, { segs: [number, number, number[]][]; signed: boolean }> = {
  nzuimm_addi4spn: { segs: [[12, 5, [5, 4, 9, 8, 7, 6, 2, 3]]], signed: false },
  uimm_d: { segs: [[12, 10, [5, 4, 3]], [6, 5, [7, 6]]], signed: false },
  uimm_w: { segs: [[12, 10, [5, 4, 3]], [6, 5, [2, 6]]], signed: false },
  imm6: { segs: [[12, 12, [5]], [6, 2, [4, 3, 2, 1, 0]]], signed: true },
  uimm6: { segs: [[12, 12, [5]], [6, 2, [4, 3, 2, 1, 0]]], signed: false },
  nzimm_addi16sp: { segs: [[12, 12, [9]], [6, 2, [4, 6, 8, 7, 5]]], signed: true },
  nzimm_lui: { segs: [[12, 12, [17]], [6, 2, [16, 15, 14, 13, 12]]], signed: true },
  jimm: { segs: [[12, 2, [11, 4, 9, 8, 10, 6, 7, 3, 2, 1, 5]]], signed: true },
  bimm: { segs: [[12, 10, [8, 4, 3]], [6, 2, [7, 6, 2, 1, 5]]], signed: true },
  uimm_ldsp: { segs: [[12, 12, [5]], [6, 2, [4, 3, 8, 7, 6]]], signed: false },
  uimm_lwsp: { segs: [[12, 12, [5]], [6, 2, [4, 3, 2, 7, 6]]], signed: false },
  uimm_sdsp: { segs: [[12, 7, [5, 4, 3, 8, 7, 6]]], signed: false },
  uimm_swsp: { segs: [[12, 7, [5, 4, 3, 2, 7, 6]]], signed: false },
  zero: { segs: [], signed: false },
};

export const RVC: CDef[] = [
  // Quadrant 0
  { name: 'c.addi4spn', fixed: '15..13=0 1..0=0', base: 'addi', rd: 'rd\'', rs1: 2, imm: 'nzuimm_addi4spn', reserved: 'imm==0' },
  { name: 'c.fld', fixed: '15..13=1 1..0=0', base: 'fld', rd: 'rd\'', rs1: 'rs1\'', imm: 'uimm_d' },
  { name: 'c.lw', fixed: '15..13=2 1..0=0', base: 'lw', rd: 'rd\'', rs1: 'rs1\'', imm: 'uimm_w' },
  { name: 'c.ld', fixed: '15..13=3 1..0=0', base: 'ld', rd: 'rd\'', rs1: 'rs1\'', imm: 'uimm_d' },
  { name: 'c.fsd', fixed: '15..13=5 1..0=0', base: 'fsd', rs1: 'rs1\'', rs2: 'rs2\'', imm: 'uimm_d' },
  { name: 'c.sw', fixed: '15..13=6 1..0=0', base: 'sw', rs1: 'rs1\'', rs2: 'rs2\'', imm: 'uimm_w' },
  { name: 'c.sd', fixed: '15..13=7 1..0=0', base: 'sd', rs1: 'rs1\'', rs2: 'rs2\'', imm: 'uimm_d' },
  // Quadrant 1
  { name: 'c.addi', fixed: '15..13=0 1..0=1', base: 'addi', rd: 'rd', rs1: 'rd', imm: 'imm6' },
  { name: 'c.addiw', fixed: '15..13=1 1..0=1', base: 'addiw', rd: 'rd', rs1: 'rd', imm: 'imm6', reserved: 'rd==0' },
  { name: 'c.li', fixed: '15..13=2 1..0=1', base: 'addi', rd: 'rd', rs1: 0, imm: 'imm6' },
  { name: 'c.addi16sp', fixed: '15..13=3 1..0=1', base: 'addi', rd: 'rd', rs1: 'rd', imm: 'nzimm_addi16sp', when: 'rd==2', reserved: 'imm==0' },
  { name: 'c.lui', fixed: '15..13=3 1..0=1', base: 'lui', rd: 'rd', imm: 'nzimm_lui', reserved: 'imm==0' },
  { name: 'c.srli', fixed: '15..13=4 11..10=0 1..0=1', base: 'srli', rd: 'rs1\'', rs1: 'rs1\'', imm: 'uimm6' },
  { name: 'c.srai', fixed: '15..13=4 11..10=1 1..0=1', base: 'srai', rd: 'rs1\'', rs1: 'rs1\'', imm: 'uimm6' },
  { name: 'c.andi', fixed: '15..13=4 11..10=2 1..0=1', base: 'andi', rd: 'rs1\'', rs1: 'rs1\'', imm: 'imm6' },
  { name: 'c.sub', fixed: '15..13=4 12=0 11..10=3 6..5=0 1..0=1', base: 'sub', rd: 'rs1\'', rs1: 'rs1\'', rs2: 'rs2\'' },
  { name: 'c.xor', fixed: '15..13=4 12=0 11..10=3 6..5=1 1..0=1', base: 'xor', rd: 'rs1\'', rs1: 'rs1\'', rs2: 'rs2\'' },
  { name: 'c.or', fixed: '15..13=4 12=0 11..10=3 6..5=2 1..0=1', base: 'or', rd: 'rs1\'', rs1: 'rs1\'', rs2: 'rs2\'' },
  { name: 'c.and', fixed: '15..13=4 12=0 11..10=3 6..5=3 1..0=1', base: 'and', rd: 'rs1\'', rs1: 'rs1\'', rs2: 'rs2\'' },
  { name: 'c.subw', fixed: '15..13=4 12=1 11..10=3 6..5=0 1..0=1', base: 'subw', rd: 'rs1\'', rs1: 'rs1\'', rs2: 'rs2\'' },
  { name: 'c.addw', fixed: '15..13=4 12=1 11..10=3 6..5=1 1..0=1', base: 'addw', rd: 'rs1\'', rs1: 'rs1\'', rs2: 'rs2\'' },
  { name: 'c.j', fixed: '15..13=5 1..0=1', base: 'jal', rd: 0, imm: 'jimm' },
  { name: 'c.beqz', fixed: '15..13=6 1..0=1', base: 'beq', rs1: 'rs1\'', rs2: 0, imm: 'bimm' },
  { name: 'c.bnez', fixed: '15..13=7 1..0=1', base: 'bne', rs1: 'rs1\'', rs2: 0, imm: 'bimm' },
  // Quadrant 2
  { name: 'c.slli', fixed: '15..13=0 1..0=2', base: 'slli', rd: 'rd', rs1: 'rd', imm: 'uimm6' },
  { name: 'c.fldsp', fixed: '15..13=1 1..0=2', base: 'fld', rd: 'rd', rs1: 2, imm: 'uimm_ldsp' },
  { name: 'c.lwsp', fixed: '15..13=2 1..0=2', base: 'lw', rd: 'rd', rs1: 2, imm: 'uimm_lwsp', reserved: 'rd==0' },
  { name: 'c.ldsp', fixed: '15..13=3 1..0=2', base: 'ld', rd: 'rd', rs1: 2, imm: 'uimm_ldsp', reserved: 'rd==0' },
  { name: 'c.jr', fixed: '15..13=4 12=0 6..2=0 1..0=2', base: 'jalr', rd: 0, rs1: 'rd', imm: 'zero', reserved: 'rd==0' },
  { name: 'c.mv', fixed: '15..13=4 12=0 1..0=2', base: 'add', rd: 'rd', rs1: 0, rs2: 'rs2' },
  { name: 'c.ebreak', fixed: '15..13=4 12=1 11..7=0 6..2=0 1..0=2', base: 'ebreak' },
  { name: 'c.jalr', fixed: '15..13=4 12=1 6..2=0 1..0=2', base: 'jalr', rd: 1, rs1: 'rd', imm: 'zero' },
  { name: 'c.add', fixed: '15..13=4 12=1 1..0=2', base: 'add', rd: 'rd', rs1: 'rd', rs2: 'rs2' },
  { name: 'c.fsdsp', fixed: '15..13=5 1..0=2', base: 'fsd', rs1: 2, rs2: 'rs2', imm: 'uimm_sdsp' },
  { name: 'c.swsp', fixed: '15..13=6 1..0=2', base: 'sw', rs1: 2, rs2: 'rs2', imm: 'uimm_swsp' },
  { name: 'c.sdsp', fixed: '15..13=7 1..0=2', base: 'sd', rs1: 2, rs2: 'rs2', imm: 'uimm_sdsp' },
];

/** Control and status registers (privileged spec, "CSR Listing" tables), by name. */
export const CSRS: Record<string, number> = {
  // Unprivileged floating-point and counters
  fflags: 0x001, frm: 0x002, fcsr: 0x003,
  cycle: 0xc00, time: 0xc01, instret: 0xc02,
  // Supervisor
  sstatus: 0x100, sie: 0x104, stvec: 0x105, scounteren: 0x106, senvcfg: 0x10a,
  sscratch: 0x140, sepc: 0x141, scause: 0x142, stval: 0x143, sip: 0x144,
  stimecmp: 0x14d, satp: 0x180,
  // Hypervisor and virtual supervisor (H extension)
  hstatus: 0x600, hedeleg: 0x602, hideleg: 0x603, hie: 0x604, htimedelta: 0x605,
  hcounteren: 0x606, hgeie: 0x607, henvcfg: 0x60a, htval: 0x643, hip: 0x644, hvip: 0x645,
  htinst: 0x64a, hgatp: 0x680, hgeip: 0xe12,
  vsstatus: 0x200, vsie: 0x204, vstvec: 0x205, vsscratch: 0x240, vsepc: 0x241,
  vscause: 0x242, vstval: 0x243, vsip: 0x244, vstimecmp: 0x24d, vsatp: 0x280,
  // Machine
  mvendorid: 0xf11, marchid: 0xf12, mimpid: 0xf13, mhartid: 0xf14, mconfigptr: 0xf15,
  mstatus: 0x300, misa: 0x301, medeleg: 0x302, mideleg: 0x303, mie: 0x304, mtvec: 0x305,
  mcounteren: 0x306, menvcfg: 0x30a, mcountinhibit: 0x320,
  mscratch: 0x340, mepc: 0x341, mcause: 0x342, mtval: 0x343, mip: 0x344,
  mtinst: 0x34a, mtval2: 0x34b,
  pmpcfg0: 0x3a0, pmpcfg2: 0x3a2,
  pmpaddr0: 0x3b0, pmpaddr1: 0x3b1, pmpaddr2: 0x3b2, pmpaddr3: 0x3b3,
  pmpaddr4: 0x3b4, pmpaddr5: 0x3b5, pmpaddr6: 0x3b6, pmpaddr7: 0x3b7,
  pmpaddr8: 0x3b8, pmpaddr9: 0x3b9, pmpaddr10: 0x3ba, pmpaddr11: 0x3bb,
  pmpaddr12: 0x3bc, pmpaddr13: 0x3bd, pmpaddr14: 0x3be, pmpaddr15: 0x3bf,
  mcycle: 0xb00, minstret: 0xb02,
  tselect: 0x7a0, tdata1: 0x7a1,
};

/** ABI register names, x0..x31. */
export const XREG_NAMES = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];
export const FREG_NAMES = [
  'ft0', 'ft1', 'ft2', 'ft3', 'ft4', 'ft5', 'ft6', 'ft7', 'fs0', 'fs1', 'fa0', 'fa1', 'fa2', 'fa3', 'fa4', 'fa5',
  'fa6', 'fa7', 'fs2', 'fs3', 'fs4', 'fs5', 'fs6', 'fs7', 'fs8', 'fs9', 'fs10', 'fs11', 'ft8', 'ft9', 'ft10', 'ft11',
];
export const RM_NAMES = ['rne', 'rtz', 'rdn', 'rup', 'rmm', 'rm5', 'rm6', 'dyn'];

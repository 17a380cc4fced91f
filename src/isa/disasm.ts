// Disassembler (traces, error messages, differential-test reports), from the encoding table.
import { decode } from './encode.js';
import { INSN_BY_NAME } from './table.js';
import { CSRS, XREG_NAMES, FREG_NAMES, RM_NAMES, FIELDS } from './opcodes.js';

const CSR_NAMES = new Map(Object.entries(CSRS).map(([n, v]) => [v, n]));

export function csrName(num: number): string {
  return CSR_NAMES.get(num) ?? `0x${num.toString(16).padStart(3, '0')}`;
}

const hex = (v: number) => (v < 0 ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`);

/** Disassemble one instruction; `pc` (if given) turns branch offsets into targets. */
export function disassemble(insn: number, pc?: bigint): string {
  const d = decode(insn);
  if (d.name === 'illegal') return `illegal ${hex(d.insn)}`;
  const target = (off: number) => (pc === undefined ? `pc${off < 0 ? '-' : '+'}${Math.abs(off)}` : `0x${(pc + BigInt(off)).toString(16)}`);
  if (d.base !== undefined) {
    // compressed: its operands in the base instruction's roles
    const base = INSN_BY_NAME.get(d.base)!;
    const fp = base.args.some((a) => a.startsWith('f'));
    const reg = (r: number, f: boolean) => (f ? FREG_NAMES[r] : XREG_NAMES[r]);
    const { rd, rs1, rs2, imm } = d.ops;
    switch (d.name) {
      case 'c.j': return `${d.name} ${target(imm)}`;
      case 'c.beqz': case 'c.bnez': return `${d.name} ${XREG_NAMES[rs1]}, ${target(imm)}`;
      case 'c.jr': case 'c.jalr': return `${d.name} ${XREG_NAMES[rs1]}`;
      case 'c.ebreak': return d.name;
      case 'c.mv': return `${d.name} ${XREG_NAMES[rd]}, ${XREG_NAMES[rs2]}`;
      case 'c.add': case 'c.sub': case 'c.xor': case 'c.or': case 'c.and': case 'c.subw': case 'c.addw':
        return `${d.name} ${XREG_NAMES[rd]}, ${XREG_NAMES[rs2]}`;
    }
    if (base.args.includes('simm12')) return `${d.name} ${reg(rs2, fp)}, ${imm}(${XREG_NAMES[rs1]})`;
    if (['lw', 'ld', 'fld'].includes(d.base)) return `${d.name} ${reg(rd, fp)}, ${imm}(${XREG_NAMES[rs1]})`;
    if (d.base === 'lui') return `${d.name} ${XREG_NAMES[rd]}, ${hex(imm >> 12)}`;
    if (d.name === 'c.li') return `${d.name} ${XREG_NAMES[rd]}, ${imm}`;
    if (d.name === 'c.addi4spn') return `${d.name} ${XREG_NAMES[rd]}, sp, ${imm}`;
    return `${d.name} ${XREG_NAMES[rd]}, ${imm}`;
  }
  const i = INSN_BY_NAME.get(d.name)!;
  const o = d.ops;
  const x = (f: string) => XREG_NAMES[o[f]];
  const f = (n: string) => FREG_NAMES[o[n]];
  if (i.args.includes('simm12')) return `${d.name} ${i.args.includes('frs2') ? f('frs2') : x('rs2')}, ${o.simm12}(${x('rs1')})`;
  if (i.args.includes('bimm12')) return `${d.name} ${x('rs1')}, ${x('rs2')}, ${target(o.bimm12)}`;
  if (d.name === 'jal') return `jal ${x('rd')}, ${target(o.jimm20)}`;
  if (['lui', 'auipc'].includes(d.name)) return `${d.name} ${x('rd')}, ${hex((o.imm20 >> 12) & 0xfffff)}`;
  if (i.args.includes('csr')) {
    const src = i.args.includes('zimm') ? String(o.zimm) : x('rs1');
    return `${d.name} ${x('rd')}, ${csrName(o.csr)}, ${src}`;
  }
  if (d.name === 'fence') return `fence ${fenceSet(o.pred)}, ${fenceSet(o.succ)}`;
  if (i.args.length === 0 || d.name === 'fence.i') return d.name;
  if (d.name === 'sfence.vma' || d.name.startsWith('hfence.')) return `${d.name} ${x('rs1')}, ${x('rs2')}`;
  // H: hlv.* rd, (rs1) and hsv.* rs2, (rs1), as binutils prints them
  if (/^hlvx?\./.test(d.name)) return `${d.name} ${x('rd')}, (${x('rs1')})`;
  if (d.name.startsWith('hsv.')) return `${d.name} ${x('rs2')}, (${x('rs1')})`;
  const isLoad = i.args.includes('imm12') && /^(l[bhwd]u?|flw|fld|jalr)$/.test(d.name);
  const parts: string[] = [];
  for (const a of i.args) {
    const kind = FIELDS[a].kind;
    if (kind === 'xreg') parts.push(XREG_NAMES[o[a]]);
    else if (kind === 'freg') parts.push(FREG_NAMES[o[a]]);
    else if (kind === 'rm') { if (o[a] !== 7) parts.push(RM_NAMES[o[a]]); }
    else if (kind === 'imm') parts.push(String(o[a]));
  }
  if (i.args.includes('aq') || i.args.includes('rl')) {
    const suffix = (o.aq ? '.aq' : '') + (o.rl ? '.rl' : '');
    return `${d.name}${suffix} ${parts[0]}, ${parts.slice(2).concat(`(${parts[1]})`).join(', ')}`;
  }
  if (isLoad) return `${d.name} ${parts[0]}, ${o.imm12}(${parts[1]})`;
  return `${d.name} ${parts.join(', ')}`;
}

function fenceSet(v: number): string {
  return ['i', 'o', 'r', 'w'].filter((_, k) => v & (8 >> k)).join('') || '0';
}

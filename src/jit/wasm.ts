// A small WebAssembly binary writer: just what the block compiler needs (WebAssembly core
// specification, chapter 5 "Binary Format"). Opcodes are named as in the text format.

/** Instruction opcodes (spec 5.4), named as in the text format with '.' written as '_'. */
export const Op = {
  unreachable: 0x00, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c,
  br_if: 0x0d, br_table: 0x0e, return: 0x0f, call: 0x10, drop: 0x1a, select: 0x1b,
  local_get: 0x20, local_set: 0x21, local_tee: 0x22, global_get: 0x23, global_set: 0x24,
  i64_load: 0x29, i64_load8_s: 0x30, i64_load8_u: 0x31, i64_load16_s: 0x32, i64_load16_u: 0x33,
  i64_load32_s: 0x34, i64_load32_u: 0x35, i64_store: 0x37, i64_store8: 0x3c, i64_store16: 0x3d,
  i64_store32: 0x3e,
  i32_const: 0x41, i64_const: 0x42,
  i32_eqz: 0x45, i32_eq: 0x46, i32_le_u: 0x4d,
  i64_eqz: 0x50, i64_eq: 0x51, i64_ne: 0x52, i64_lt_s: 0x53, i64_lt_u: 0x54, i64_ge_s: 0x59,
  i64_ge_u: 0x5a, i64_le_u: 0x58, i64_gt_u: 0x56,
  i32_add: 0x6a, i32_sub: 0x6b, i32_mul: 0x6c, i32_div_s: 0x6d, i32_div_u: 0x6e, i32_rem_s: 0x6f,
  i32_rem_u: 0x70, i32_and: 0x71, i32_shl: 0x74, i32_shr_s: 0x75, i32_shr_u: 0x76,
  i64_add: 0x7c, i64_sub: 0x7d, i64_mul: 0x7e, i64_div_s: 0x7f, i64_div_u: 0x80, i64_rem_s: 0x81,
  i64_rem_u: 0x82, i64_and: 0x83, i64_or: 0x84, i64_xor: 0x85, i64_shl: 0x86, i64_shr_s: 0x87,
  i64_shr_u: 0x88,
  i32_wrap_i64: 0xa7, i64_extend_i32_s: 0xac, i64_extend_i32_u: 0xad,
  i64_extend8_s: 0xc2, i64_extend16_s: 0xc3, i64_extend32_s: 0xc4,
} as const;

/** Value and block types (spec 5.3). */
export const I32 = 0x7f;
export const I64 = 0x7e;
export const EMPTY = 0x40;

/** A growable byte buffer with LEB128 writers (spec 5.2.2). */
export class Bytes {
  private buf: Uint8Array<ArrayBuffer> = new Uint8Array(256);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
  }
  byte(b: number): this {
    if (this.length === this.buf.length) this.reserve(1);
    this.buf[this.length++] = b;
    return this;
  }
  bytes(bs: ArrayLike<number>): this {
    this.reserve(bs.length);
    this.buf.set(bs, this.length);
    this.length += bs.length;
    return this;
  }
  u32(v: number): this {
    v >>>= 0;
    do {
      const b = v & 0x7f;
      v >>>= 7;
      this.byte(v ? b | 0x80 : b);
    } while (v);
    return this;
  }
  s32(v: number): this {
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) return this.byte(b);
      this.byte(b | 0x80);
    }
  }
  s64(v: bigint | number): this {
    if (typeof v === 'number' && Number.isSafeInteger(v)) {
      // the common case, without BigInt arithmetic: `& 0x7f` keeps the low bits of any
      // safe integer (ToInt32 is modulo 2^32) and floor division is an arithmetic shift
      for (;;) {
        const b = v & 0x7f;
        v = Math.floor(v / 128);
        if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) return this.byte(b);
        this.byte(b | 0x80);
      }
    }
    let w = BigInt.asIntN(64, BigInt(v));
    for (;;) {
      const b = Number(w & 0x7fn);
      w >>= 7n;
      if ((w === 0n && !(b & 0x40)) || (w === -1n && b & 0x40)) return this.byte(b);
      this.byte(b | 0x80);
    }
  }
  name(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.u32(b.length).bytes(b);
  }
  /** A length-prefixed copy of another buffer. */
  sized(b: Bytes): this {
    return this.u32(b.length).bytes(b.view());
  }
  view(): Uint8Array<ArrayBuffer> {
    return this.buf.subarray(0, this.length);
  }
}

export interface FuncType {
  params: number[];
  results: number[];
}
export type Import =
  | { module: string; name: string; kind: 'func'; type: number }
  | { module: string; name: string; kind: 'memory' }
  | { module: string; name: string; kind: 'global'; valtype: number; mutable: boolean };
export interface Func {
  type: number;
  /** Local declarations after the params: [count, valtype] runs. */
  locals: [number, number][];
  /** The body's instructions, without the final `end`. */
  body: Bytes;
  export?: string;
}

/** Assemble a module (spec 5.5): types, imports, functions, exports, code. */
export function assemble(types: FuncType[], imports: Import[], funcs: Func[]): Uint8Array<ArrayBuffer> {
  const out = new Bytes().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const section = (id: number, content: Bytes) => out.byte(id).sized(content);

  const t = new Bytes().u32(types.length);
  for (const ft of types) t.byte(0x60).u32(ft.params.length).bytes(ft.params).u32(ft.results.length).bytes(ft.results);
  section(1, t);

  const im = new Bytes().u32(imports.length);
  let importedFuncs = 0;
  for (const i of imports) {
    im.name(i.module).name(i.name);
    if (i.kind === 'func') { im.byte(0x00).u32(i.type); importedFuncs++; }
    else if (i.kind === 'memory') im.byte(0x02).byte(0x00).u32(0);
    else im.byte(0x03).byte(i.valtype).byte(i.mutable ? 1 : 0);
  }
  section(2, im);

  const fs = new Bytes().u32(funcs.length);
  for (const f of funcs) fs.u32(f.type);
  section(3, fs);

  const exported = funcs.map((f, i) => [f.export, i] as const).filter(([e]) => e !== undefined);
  const ex = new Bytes().u32(exported.length);
  for (const [name, i] of exported) ex.name(name!).byte(0x00).u32(importedFuncs + i);
  section(7, ex);

  const code = new Bytes().u32(funcs.length);
  for (const f of funcs) {
    const body = new Bytes().u32(f.locals.length);
    for (const [n, vt] of f.locals) body.u32(n).byte(vt);
    body.bytes(f.body.view()).byte(Op.end);
    code.sized(body);
  }
  section(10, code);
  return out.view().slice();
}

// Flattened Device Tree (FDT / DTB) writer and parser.
// Devicetree Specification v0.4, chapter 5 "Flattened Devicetree (DTB) Format": a header
// (5.2), a memory reservation block (5.3), a structure block of tokens (5.4) and a strings
// block of NUL-terminated property names (5.5). Every integer is big-endian.

export class FdtError extends Error {
  override name = 'FdtError';
}

export interface FdtNode {
  name: string;
  props: Map<string, Uint8Array>;
  children: FdtNode[];
}

export interface FdtReservation {
  address: bigint;
  size: bigint;
}

export interface FdtFinishOptions {
  /** header boot_cpuid_phys (5.2): the reg of the boot CPU's node */
  bootCpuId?: number;
  /** memory reservation block entries (5.3) */
  reservations?: FdtReservation[];
}

/** Everything a blob holds: the tree plus the header fields a reader may need. */
export interface FdtBlob {
  root: FdtNode;
  version: number;
  bootCpuId: number;
  reservations: FdtReservation[];
}

// 5.2 header, 5.4.1 tokens.
const FDT_MAGIC = 0xd00dfeed;
const FDT_VERSION = 17;
const FDT_LAST_COMP_VERSION = 16;
const HEADER_SIZE = 40;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;

// 2.2.1 Table 2.1 (node names: node-name@unit-address, node-name 1..31 chars starting with a
// letter) and 2.2.4.1 Table 2.2 (property names, 1..31 chars).
const NODE_NAME = /^[A-Za-z][0-9A-Za-z,._+-]{0,30}(@[0-9A-Za-z,._+-]+)?$/;
const PROP_NAME = /^[0-9A-Za-z,._+?#-]{1,31}$/;

const U32_MAX = 0xffff_ffff;
const U64_MAX = (1n << 64n) - 1n;
const utf8 = new TextEncoder();
/** Not fatal: malformed UTF-8 decodes to U+FFFD instead of throwing. */
const utf8Decoder = new TextDecoder();

const align4 = (n: number) => (n + 3) & ~3;

/** Big-endian cells: numbers as one u32 cell each, bigints as two (5.2: big-endian). */
function cells(values: (number | bigint)[]): Uint8Array {
  const words = values.reduce<number>((n, v) => n + (typeof v === 'bigint' ? 2 : 1), 0);
  const out = new Uint8Array(words * 4);
  const dv = new DataView(out.buffer);
  let o = 0;
  for (const v of values) {
    if (typeof v === 'bigint') {
      dv.setBigUint64(o, v);
      o += 8;
    } else {
      dv.setUint32(o, v);
      o += 4;
    }
  }
  return out;
}

/** NUL-terminated strings back to back: the <string> / <stringlist> encoding (2.2.4.2). */
function stringList(what: string, ss: string[]): Uint8Array {
  const parts = ss.map((s) => {
    if (s.includes('\0')) throw new FdtError(`property ${what}: string ${JSON.stringify(s)} contains a NUL`);
    return utf8.encode(s + '\0');
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Builds a device tree and serializes it as an FDT blob. Nodes and properties may be added in
 * any order within a node; finish() emits each node's properties before its children, as 5.4.2
 * requires (libfdt does not see properties that follow a subnode).
 */
export class FdtWriter {
  private root: FdtNode | undefined;
  private readonly open: FdtNode[] = [];

  /** Open a node; the first node must be the root, named ''. */
  beginNode(name: string): this {
    const parent = this.open.at(-1);
    if (!parent) {
      if (this.root) throw new FdtError(`node ${JSON.stringify(name)}: the root node is already closed`);
      if (name !== '') throw new FdtError(`node ${JSON.stringify(name)}: the first node must be the root node ''`);
      this.root = { name, props: new Map(), children: [] };
      this.open.push(this.root);
      return this;
    }
    if (!NODE_NAME.test(name)) throw new FdtError(`bad node name ${JSON.stringify(name)} (spec 2.2.1)`);
    if (parent.children.some((c) => c.name === name))
      throw new FdtError(`node ${JSON.stringify(name)}: duplicate node in ${this.path()}`);
    const node: FdtNode = { name, props: new Map(), children: [] };
    parent.children.push(node);
    this.open.push(node);
    return this;
  }

  endNode(): this {
    if (this.open.length === 0) throw new FdtError('endNode() without a matching beginNode()');
    this.open.pop();
    return this;
  }

  prop(name: string, value: Uint8Array): this {
    const node = this.open.at(-1);
    if (!node) throw new FdtError(`property ${JSON.stringify(name)} outside any node`);
    if (!PROP_NAME.test(name)) throw new FdtError(`bad property name ${JSON.stringify(name)} (spec 2.2.4.1)`);
    if (node.props.has(name)) throw new FdtError(`property ${JSON.stringify(name)}: duplicate in ${this.path()}`);
    node.props.set(name, value.slice());
    return this;
  }

  /** <u32> / <prop-encoded-array> of 32-bit cells. */
  propU32(name: string, ...values: number[]): this {
    for (const v of values)
      if (!Number.isInteger(v) || v < 0 || v > U32_MAX) throw new FdtError(`property ${name}: ${v} is not a u32`);
    return this.prop(name, cells(values));
  }

  /** <u64> values, each as two cells (high word first). */
  propU64(name: string, ...values: bigint[]): this {
    for (const v of values) if (v < 0n || v > U64_MAX) throw new FdtError(`property ${name}: ${v} is not a u64`);
    return this.prop(name, cells(values));
  }

  propString(name: string, s: string): this {
    return this.prop(name, stringList(name, [s]));
  }

  propStrings(name: string, ...ss: string[]): this {
    return this.prop(name, stringList(name, ss));
  }

  propEmpty(name: string): this {
    return this.prop(name, new Uint8Array(0));
  }

  /** Serialize: header, reservation block, structure block, strings block (chapter 5, Figure 5.1). */
  finish(opts: FdtFinishOptions = {}): Uint8Array {
    if (!this.root) throw new FdtError('finish(): no root node');
    if (this.open.length) throw new FdtError(`finish(): ${this.open.length} node(s) still open, innermost ${this.path()}`);
    const bootCpuId = opts.bootCpuId ?? 0;
    if (!Number.isInteger(bootCpuId) || bootCpuId < 0 || bootCpuId > U32_MAX)
      throw new FdtError(`finish(): bootCpuId ${bootCpuId} is not a u32`);
    const reservations = opts.reservations ?? [];
    for (const r of reservations)
      if (r.address < 0n || r.address > U64_MAX || r.size < 0n || r.size > U64_MAX)
        throw new FdtError(`finish(): reservation ${r.address}+${r.size} is not a pair of u64`);

    // 5.5: the strings block, each property name once.
    const strOffsets = new Map<string, number>();
    const strParts: Uint8Array[] = [];
    let strSize = 0;
    const nameOff = (name: string) => {
      let off = strOffsets.get(name);
      if (off === undefined) {
        off = strSize;
        strOffsets.set(name, off);
        const bytes = utf8.encode(name + '\0');
        strParts.push(bytes);
        strSize += bytes.length;
      }
      return off;
    };

    // 5.4: the structure block as a list of words; names and values padded to 4 bytes.
    const struct: Uint8Array[] = [];
    let structSize = 0;
    const emit = (b: Uint8Array) => {
      struct.push(b);
      structSize += b.length;
    };
    const padded = (b: Uint8Array) => {
      const out = new Uint8Array(align4(b.length));
      out.set(b);
      return out;
    };
    const walk = (node: FdtNode) => {
      emit(cells([FDT_BEGIN_NODE]));
      emit(padded(utf8.encode(node.name + '\0')));
      for (const [name, value] of node.props) {
        emit(cells([FDT_PROP, value.length, nameOff(name)]));
        emit(padded(value));
      }
      node.children.forEach(walk);
      emit(cells([FDT_END_NODE]));
    };
    walk(this.root);
    emit(cells([FDT_END]));

    // 5.3: reservation block at an 8-byte aligned offset, ended by a zero entry.
    const rsvOff = HEADER_SIZE;
    const structOff = rsvOff + (reservations.length + 1) * 16;
    const stringsOff = structOff + structSize;
    const total = stringsOff + strSize;
    const blob = new Uint8Array(total);
    blob.set(cells([FDT_MAGIC, total, structOff, stringsOff, rsvOff, FDT_VERSION, FDT_LAST_COMP_VERSION,
      bootCpuId, strSize, structSize]));
    blob.set(cells(reservations.flatMap((r) => [r.address, r.size])), rsvOff);
    let o = structOff;
    for (const b of [...struct, ...strParts]) {
      blob.set(b, o);
      o += b.length;
    }
    return blob;
  }

  private path(): string {
    return '/' + this.open.slice(1).map((n) => n.name).join('/');
  }
}

/** Parse a blob; throws FdtError with a one-line reason if anything in it is malformed. */
export function parseFdt(blob: Uint8Array): FdtNode {
  return readFdt(blob).root;
}

/** Parse a blob, keeping the header's boot CPU and the memory reservation block. */
export function readFdt(blob: Uint8Array): FdtBlob {
  const bad = (why: string) => new FdtError(`device tree blob: ${why}`);
  const hex = (n: number) => '0x' + n.toString(16);
  if (blob.length < HEADER_SIZE) throw bad(`truncated header (${blob.length} bytes, need ${HEADER_SIZE})`);
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const [magic, totalsize, offStruct, offStrings, offRsv, version, lastComp, bootCpuId, sizeStrings, sizeStructHdr] =
    Array.from({ length: 10 }, (_, i) => dv.getUint32(i * 4));

  // 5.2 header checks.
  if (magic !== FDT_MAGIC) throw bad(`bad magic ${hex(magic)}`);
  if (version < 16 || lastComp > FDT_VERSION)
    throw bad(`unsupported version ${version} (last compatible ${lastComp}); this reader handles 16..17`);
  if (totalsize > blob.length) throw bad(`totalsize ${totalsize} exceeds the ${blob.length} bytes given`);
  if (totalsize < HEADER_SIZE) throw bad(`totalsize ${totalsize} is smaller than the header`);
  // Version 16 has no size_dt_struct: the structure block may run to the end of the blob.
  const sizeStruct = version >= 17 ? sizeStructHdr : totalsize - Math.min(offStruct, totalsize);
  const inside = (what: string, off: number, size: number) => {
    if (off < HEADER_SIZE || off > totalsize || size > totalsize - off)
      throw bad(`${what} (offset ${hex(off)}, size ${size}) lies outside the ${totalsize}-byte blob`);
  };
  inside('structure block', offStruct, sizeStruct);
  inside('strings block', offStrings, sizeStrings);
  inside('memory reservation block', offRsv, 0);
  if (offStruct % 4) throw bad(`structure block offset ${hex(offStruct)} is not 4-byte aligned`);
  if (offRsv % 8) throw bad(`memory reservation block offset ${hex(offRsv)} is not 8-byte aligned`);

  // 5.3: (address, size) u64 pairs up to an all-zero entry.
  const reservations: FdtReservation[] = [];
  for (let o = offRsv; ; o += 16) {
    if (o + 16 > totalsize) throw bad('memory reservation block has no terminating zero entry');
    const address = dv.getBigUint64(o);
    const size = dv.getBigUint64(o + 8);
    if (address === 0n && size === 0n) break;
    reservations.push({ address, size });
  }

  // A NUL-terminated string inside [start, end): the string and the offset of its NUL.
  const cstring = (what: string, start: number, end: number): [string, number] => {
    const nul = blob.subarray(start, end).indexOf(0);
    if (nul < 0) throw bad(`${what} at ${hex(start)} is not NUL-terminated inside its block`);
    return [utf8Decoder.decode(blob.subarray(start, start + nul)), start + nul];
  };

  // 5.4: walk the tokens iteratively (nesting depth is bounded only by the blob size).
  const structEnd = offStruct + sizeStruct;
  let o = offStruct;
  const word = (what: string) => {
    if (o + 4 > structEnd) throw bad(`structure block ends inside ${what} at ${hex(o)}`);
    const w = dv.getUint32(o);
    o += 4;
    return w;
  };
  let root: FdtNode | undefined;
  const stack: FdtNode[] = [];
  for (;;) {
    const at = o;
    const token = word('a token');
    if (token === FDT_NOP) continue;
    if (token === FDT_BEGIN_NODE) {
      const [name, nul] = cstring('node name', o, structEnd);
      o = align4(nul + 1);
      const node: FdtNode = { name, props: new Map(), children: [] };
      const parent = stack.at(-1);
      if (parent) parent.children.push(node);
      else if (root) throw bad(`second root node at ${hex(at)}`);
      else if (name !== '') throw bad(`root node has name ${JSON.stringify(name)}, not ''`);
      else root = node;
      stack.push(node);
    } else if (token === FDT_END_NODE) {
      if (!stack.pop()) throw bad(`FDT_END_NODE at ${hex(at)} outside any node`);
    } else if (token === FDT_PROP) {
      const len = word('a property header');
      const nameoff = word('a property header');
      const node = stack.at(-1);
      if (!node) throw bad(`FDT_PROP at ${hex(at)} outside any node`);
      if (nameoff >= sizeStrings) throw bad(`property name offset ${hex(nameoff)} at ${hex(at)} is outside the strings block`);
      const [name] = cstring('property name', offStrings + nameoff, offStrings + sizeStrings);
      if (len > structEnd - o) throw bad(`property ${JSON.stringify(name)} at ${hex(at)}: ${len}-byte value runs past the structure block`);
      if (node.props.has(name)) throw bad(`duplicate property ${JSON.stringify(name)} in node ${JSON.stringify(node.name)}`);
      node.props.set(name, blob.slice(o, o + len));
      o = align4(o + len);
    } else if (token === FDT_END) {
      if (!root) throw bad('no root node');
      if (stack.length) throw bad(`FDT_END at ${hex(at)} with node ${JSON.stringify(stack.at(-1)!.name)} still open`);
      return { root, version, bootCpuId, reservations };
    } else {
      throw bad(`bad token ${hex(token)} at ${hex(at)}`);
    }
  }
}

/** A property as 32-bit cells; undefined when absent. */
export function getU32s(node: FdtNode, prop: string): number[] | undefined {
  const v = node.props.get(prop);
  if (!v) return undefined;
  if (v.length % 4) throw new FdtError(`property ${prop}: ${v.length} bytes is not a whole number of cells`);
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return Array.from({ length: v.length / 4 }, (_, i) => dv.getUint32(i * 4));
}

/** A property as 64-bit values (pairs of cells); undefined when absent. */
export function getU64s(node: FdtNode, prop: string): bigint[] | undefined {
  const c = getU32s(node, prop);
  if (!c) return undefined;
  if (c.length % 2) throw new FdtError(`property ${prop}: ${c.length} cells is not a whole number of u64s`);
  return Array.from({ length: c.length / 2 }, (_, i) => (BigInt(c[2 * i]) << 32n) | BigInt(c[2 * i + 1]));
}

/** A <stringlist> property; undefined when absent. */
export function getStrings(node: FdtNode, prop: string): string[] | undefined {
  const v = node.props.get(prop);
  if (!v) return undefined;
  if (v.length === 0 || v[v.length - 1] !== 0) throw new FdtError(`property ${prop}: not NUL-terminated strings`);
  return utf8Decoder.decode(v.subarray(0, -1)).split('\0');
}

/** A <string> property; undefined when absent. */
export function getString(node: FdtNode, prop: string): string | undefined {
  const ss = getStrings(node, prop);
  if (ss && ss.length !== 1) throw new FdtError(`property ${prop}: ${ss.length} strings where one was expected`);
  return ss?.[0];
}

/**
 * The node at an absolute path such as '/soc/plic@c000000'. A component without a unit address
 * also matches a node that has one ('/memory' finds memory@80000000), as libfdt's lookup does.
 */
export function findNode(root: FdtNode, path: string): FdtNode | undefined {
  if (!path.startsWith('/')) throw new FdtError(`findNode: path ${JSON.stringify(path)} is not absolute`);
  let node: FdtNode | undefined = root;
  for (const part of path.split('/').filter(Boolean)) {
    const kids: FdtNode[] = node.children;
    node = kids.find((c) => c.name === part) ?? (part.includes('@') ? undefined : kids.find((c) => c.name.split('@')[0] === part));
    if (!node) return undefined;
  }
  return node;
}

// Minimal cpio "newc" (SVR4, magic 070701, no CRC) archive writer, as the Linux
// kernel's initramfs unpacker reads it. Deterministic: inode numbers are assigned
// in entry order, every other field comes from the entry (uid/gid/mtime default 0).
//
// entry: { path, mode, data?, target?, uid?, gid?, mtime?, rdevmajor?, rdevminor? }
//   mode   full st_mode incl. the file type (S_IFREG 0o100000, S_IFDIR 0o040000,
//          S_IFLNK 0o120000, S_IFCHR 0o020000)
//   data   file contents (Buffer/Uint8Array/string) for regular files
//   target link target for symlinks (stored as the file data, per newc)
// The path is stored without a leading "/" ("/" itself becomes ".").

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

const MAGIC = '070701';
const HEADER_BYTES = 110; // 6 magic + 13 fields * 8 hex digits
const pad4 = (n) => (4 - (n % 4)) % 4;

function hex8(v) {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`cpio field out of range: ${v}`);
  return v.toString(16).toUpperCase().padStart(8, '0');
}

function header(f) {
  return Buffer.from(
    MAGIC +
      [f.ino, f.mode, f.uid, f.gid, f.nlink, f.mtime, f.filesize, f.devmajor, f.devminor, f.rdevmajor, f.rdevminor, f.namesize, 0]
        .map(hex8)
        .join(''),
    'ascii',
  );
}

function record(parts, fields, name, data) {
  const nameBuf = Buffer.from(name + '\0', 'utf8');
  parts.push(header({ ...fields, namesize: nameBuf.length, filesize: data.length }));
  parts.push(nameBuf, Buffer.alloc(pad4(HEADER_BYTES + nameBuf.length)));
  if (data.length) parts.push(data, Buffer.alloc(pad4(data.length)));
}

/** Build a newc archive (including the TRAILER!!! record) from entries, in the given order. */
export function cpioNewc(entries) {
  const parts = [];
  let ino = 1;
  for (const e of entries) {
    const type = e.mode & S_IFMT;
    let data = Buffer.alloc(0);
    if (type === S_IFLNK) {
      if (typeof e.target !== 'string') throw new Error(`cpio: symlink ${e.path} needs a target`);
      data = Buffer.from(e.target, 'utf8');
    } else if (type === S_IFREG) {
      data = e.data == null ? Buffer.alloc(0) : Buffer.from(e.data);
    } else if (e.data != null && e.data.length) {
      throw new Error(`cpio: only regular files carry data (${e.path})`);
    }
    const name = e.path.replace(/^\/+/, '') || '.';
    record(
      parts,
      {
        ino: ino++,
        mode: e.mode,
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        nlink: type === S_IFDIR ? 2 : 1,
        mtime: e.mtime ?? 0,
        devmajor: 0,
        devminor: 0,
        rdevmajor: e.rdevmajor ?? 0,
        rdevminor: e.rdevminor ?? 0,
      },
      name,
      data,
    );
  }
  record(
    parts,
    { ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0 },
    'TRAILER!!!',
    Buffer.alloc(0),
  );
  return Buffer.concat(parts);
}

/** Parse a newc archive back into records (for tests and debugging); stops at TRAILER!!!. */
export function parseNewc(buf) {
  const out = [];
  let off = 0;
  const names = ['ino', 'mode', 'uid', 'gid', 'nlink', 'mtime', 'filesize', 'devmajor', 'devminor', 'rdevmajor', 'rdevminor', 'namesize', 'check'];
  for (;;) {
    if (off + HEADER_BYTES > buf.length) throw new Error('cpio: truncated header');
    const magic = buf.toString('ascii', off, off + 6);
    if (magic !== MAGIC) throw new Error(`cpio: bad magic at ${off}: ${magic}`);
    const h = { offset: off };
    names.forEach((n, i) => (h[n] = parseInt(buf.toString('ascii', off + 6 + i * 8, off + 14 + i * 8), 16)));
    const nameStart = off + HEADER_BYTES;
    h.name = buf.toString('utf8', nameStart, nameStart + h.namesize - 1);
    if (buf[nameStart + h.namesize - 1] !== 0) throw new Error(`cpio: name of ${h.name} not NUL-terminated`);
    const dataStart = nameStart + h.namesize + pad4(HEADER_BYTES + h.namesize);
    h.data = buf.subarray(dataStart, dataStart + h.filesize);
    off = dataStart + h.filesize + pad4(h.filesize);
    if (h.name === 'TRAILER!!!') {
      h.end = off;
      out.push(h);
      return out;
    }
    out.push(h);
  }
}

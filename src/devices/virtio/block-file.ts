// A disk image file on the host (Node only: import this module lazily, e.g.
// `await import('./block-file.js')`, so browser bundles never see node:fs).
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import type { BlockBackend } from './block.js';

/** A disk image read and written with synchronous positional I/O. */
export class FileBackend implements BlockBackend {
  constructor(
    readonly path: string,
    private fd: number,
    readonly size: number,
    readonly readOnly: boolean,
  ) {}

  read(offset: number, dest: Uint8Array): void {
    for (let done = 0; done < dest.length; ) {
      const n = readSync(this.fd, dest, done, dest.length - done, offset + done);
      if (n === 0) {
        dest.fill(0, done); // the file shrank under us: read zeros
        return;
      }
      done += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new Error(`${this.path} is open read-only`);
    for (let done = 0; done < src.length; ) done += writeSync(this.fd, src, done, src.length - done, offset + done);
  }

  flush(): void {
    if (!this.readOnly) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * Open a disk image. Throws an Error with a one-line message such as
 * `cannot open disk image 'x.img': ENOENT: no such file or directory`.
 */
export function openFileBackend(path: string, opts: { readOnly?: boolean } = {}): FileBackend {
  const readOnly = !!opts.readOnly;
  let fd = -1;
  try {
    fd = openSync(path, readOnly ? 'r' : 'r+');
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('EISDIR: illegal operation on a directory'), { code: 'EISDIR' });
    return new FileBackend(path, fd, st.size, readOnly);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    const err = e as NodeJS.ErrnoException;
    // Node says "ENOENT: no such file or directory, open 'x.img'": drop the syscall part
    const reason = err.syscall ? err.message.split(`, ${err.syscall}`)[0] : err.message;
    throw new Error(`cannot open disk image '${path}': ${reason}`);
  }
}

// Node-only helpers (import from 'wasmvisor/node'): the guest console as Node streams, and
// disk images from files. Kept out of the main entry so the browser bundle has no node: imports.
import { Duplex } from 'node:stream';
import type { Machine } from './machine.js';

export { openFileBackend, FileBackend } from './devices/virtio/block-file.js';

/**
 * The guest's console as a Duplex stream: what you write is typed into the guest, what you
 * read is its output. Ending the writable side tells the machine no more input will come.
 * Usage: `process.stdin.pipe(consoleStream(m)).pipe(process.stdout)`.
 */
export function consoleStream(m: Machine): Duplex {
  let detach: (() => void) | undefined;
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, done) {
      m.sendConsole(new Uint8Array(chunk));
      done();
    },
    final(done) {
      m.endInput();
      done();
    },
    destroy(err, done) {
      detach?.();
      done(err);
    },
  });
  detach = m.onConsole((b) => stream.push(Buffer.from(b)));
  return stream;
}

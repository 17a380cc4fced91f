// A small static server for the browser front end: URLs under /build/ come from build/ (the
// core, the guests), everything else from dist/ (so the page is /web/, and the worker at
// /web/worker.js finds ../build/core.wasm). GET and HEAD, single HTTP Range requests (the
// disk image is read in chunks), no directory listings, nothing outside the two folders.
// `node scripts/serve-web.mjs` (PORT, default 8080; a free port when that one is busy).
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

/** The file for a URL path, or undefined if it is outside dist/ and build/. */
function fileFor(root, urlPath) {
  let path;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (path.includes('\0') || !path.startsWith('/')) return undefined;
  if (path.endsWith('/')) path += 'index.html';
  const underBuild = path === '/build' || path.startsWith('/build/');
  const base = resolve(root, underBuild ? '.' : 'dist');
  const file = resolve(base, '.' + path);
  const allowed = resolve(root, underBuild ? 'build' : 'dist');
  return file.startsWith(allowed + sep) ? file : undefined;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` → [start, end] inclusive; null if unsatisfiable; undefined to ignore. */
function parseRange(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // several ranges or junk: send it all
  let start, end;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start <= end && start < size ? [start, end] : null;
}

async function handle(root, req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const urlPath = new URL(req.url ?? '/', 'http://x').pathname;
  if (urlPath === '/') {
    res.writeHead(302, { location: '/web/' }).end();
    return;
  }
  const file = fileFor(root, urlPath);
  const st = file && (await stat(file).catch(() => undefined));
  if (!st?.isFile()) {
    if (st?.isDirectory()) res.writeHead(301, { location: urlPath + '/' }).end();
    else res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${urlPath}\n`);
    return;
  }
  const headers = {
    'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'accept-ranges': 'bytes',
    'cache-control': 'no-cache',
    'last-modified': st.mtime.toUTCString(),
  };
  const range = req.headers.range ? parseRange(req.headers.range, st.size) : undefined;
  if (range === null) {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${st.size}` }).end();
    return;
  }
  const [start, end] = range ?? [0, st.size - 1];
  res.writeHead(range ? 206 : 200, {
    ...headers,
    'content-length': String(end - start + 1),
    ...(range && { 'content-range': `bytes ${start}-${end}/${st.size}` }),
  });
  if (req.method === 'HEAD' || st.size === 0) {
    res.end();
    return;
  }
  createReadStream(file, { start, end }).on('error', () => res.destroy()).pipe(res);
}

/**
 * Serve `root`'s dist/ and build/ on 127.0.0.1:`port` (0: any free port; a busy port falls
 * back to a free one). Resolves to { server, port, url, close() }.
 */
export async function startServer({ port = 8080, root = ROOT, host = '127.0.0.1' } = {}) {
  const server = createServer((req, res) => {
    handle(root, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  const listen = (p) =>
    new Promise((ok, fail) => {
      server.once('error', fail);
      server.listen(p, host, () => {
        server.off('error', fail);
        ok();
      });
    });
  try {
    await listen(port);
  } catch (e) {
    if (e.code !== 'EADDRINUSE') throw e;
    await listen(0);
  }
  const actual = server.address().port;
  return {
    server,
    port: actual,
    url: `http://${host}:${actual}/web/`,
    close: () => new Promise((ok) => {
      server.close(() => ok());
      server.closeAllConnections();
    }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const wanted = Number(process.env.PORT ?? 8080);
  const { port, url } = await startServer({ port: wanted });
  if (port !== wanted) console.log(`port ${wanted} is busy; using ${port}`);
  console.log(`wasmvisor web front end: ${url}  (Ctrl-C stops the server)`);
}

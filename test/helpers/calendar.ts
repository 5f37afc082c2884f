/**
 * OpenTimestamps calendar servers for tests, on 127.0.0.1, answering as opentimestamps-server
 * (otsserver/rpc.py, calendar.py) does:
 *
 * - `POST /digest`: the submitted commitment, appended with a server nonce and hashed (the
 *   aggregator's nonce_timestamp), prepended with a 4-byte time index and appended with an 8-byte
 *   MAC (Calendar.submit), then a PendingAttestation naming the calendar's own URL;
 * - `GET /timestamp/<hex>`: 404 until the test "mines", then the path from that commitment through
 *   a Bitcoin transaction and a merkle branch to a BitcoinBlockHeaderAttestation.
 *
 * The answers are assembled byte by byte here, with node:crypto, not with the code under test.
 * Every calendar started is tracked; `closeCalendars()` stops those still open (an afterEach/afterAll).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const PENDING_TAG = Buffer.from('83dfe30d2ef90c8e', 'hex');
const BITCOIN_TAG = Buffer.from('0588960d73d71901', 'hex');

const sha256 = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();

function varuint(value: number): Buffer {
  const out: number[] = [];
  do {
    const low = value % 128;
    value = Math.floor(value / 128);
    out.push(value > 0 ? low | 0x80 : low);
  } while (value > 0);
  return Buffer.from(out);
}

const varbytes = (bytes: Buffer): Buffer => Buffer.concat([varuint(bytes.length), bytes]);

export type CalendarMode = 'ok' | 'garbage' | 'huge' | 'http500' | 'hang' | 'foreign-uri';

export interface Calendar {
  url: string;
  /** How many commitments wait to be mined. */
  pending(): number;
  /** Every request: method, path, headers and body. */
  requests: Array<{ method: string; path: string; headers: IncomingHttpHeaders; body: Buffer }>;
  /** Puts every commitment received so far in block `height`. */
  mine(height: number): void;
  /** The merkle root (internal byte order) a mined commitment's path ends in. */
  merkleRoot(commitment: string): Buffer;
  close(): Promise<void>;
}

const servers: Server[] = [];

/** Stops every calendar still open (call it from afterEach or afterAll). */
export async function closeCalendars(): Promise<void> {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startCalendar(mode: CalendarMode = 'ok'): Promise<Calendar> {
  const pending = new Set<string>();
  const mined = new Map<string, { answer: Buffer; root: Buffer }>();
  const requests: Calendar['requests'] = [];
  let url = '';

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method!, path: req.url!, headers: req.headers, body });
      if (mode === 'hang') return;
      if (mode === 'http500') {
        res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
        return;
      }
      if (req.method === 'POST' && req.url === '/digest') {
        if (mode === 'garbage' || mode === 'huge') {
          const body = mode === 'garbage' ? 'not a timestamp' : Buffer.alloc(20_000, 0xff);
          res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
          return;
        }
        const nonce = randomBytes(16);
        const index = Buffer.alloc(4);
        index.writeUInt32BE(Math.floor(Date.now() / 1000));
        const mac = randomBytes(8);
        const commitment = Buffer.concat([index, sha256(body, nonce), mac]);
        pending.add(commitment.toString('hex'));
        const uri = Buffer.from(mode === 'foreign-uri' ? 'http://127.0.0.2:9' : url);
        const answer = Buffer.concat([
          Buffer.of(0xf0),
          varbytes(nonce),
          Buffer.of(0x08, 0xf1),
          varbytes(index),
          Buffer.of(0xf0),
          varbytes(mac),
          Buffer.of(0x00),
          PENDING_TAG,
          varbytes(varbytes(uri)),
        ]);
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(answer);
        return;
      }
      const match = /^\/timestamp\/([0-9a-f]+)$/.exec(req.url ?? '');
      if (req.method === 'GET' && match !== null) {
        const found = mined.get(match[1]!);
        if (found === undefined) {
          const reason = pending.has(match[1]!) ? 'Pending confirmation in Bitcoin blockchain' : 'Not found';
          res.writeHead(404, { 'content-type': 'text/plain' }).end(reason);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(found.answer);
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    });
  });
  url = await listen(server);

  return {
    url,
    requests,
    pending: () => pending.size,
    mine(height) {
      for (const hex of pending) {
        const commitment = Buffer.from(hex, 'hex');
        // A transaction whose OP_RETURN output carries sha256(commitment), then its merkle branch.
        const txPrefix = randomBytes(60);
        const txSuffix = Buffer.from('0000000000', 'hex');
        const sibling = randomBytes(32);
        const txid = sha256(sha256(txPrefix, sha256(commitment), txSuffix));
        const root = sha256(sha256(txid, sibling));
        const answer = Buffer.concat([
          Buffer.of(0x08, 0xf1),
          varbytes(txPrefix),
          Buffer.of(0xf0),
          varbytes(txSuffix),
          Buffer.of(0x08, 0x08, 0xf0),
          varbytes(sibling),
          Buffer.of(0x08, 0x08, 0x00),
          BITCOIN_TAG,
          varbytes(varuint(height)),
        ]);
        mined.set(hex, { answer, root });
      }
      pending.clear();
    },
    merkleRoot(commitment) {
      return mined.get(commitment)!.root;
    },
    async close() {
      const at = servers.indexOf(server);
      if (at < 0) return;
      servers.splice(at, 1);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A URL nothing listens on: a server that was started and stopped. */
export async function downUrl(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  servers.splice(servers.indexOf(server), 1);
  await new Promise((resolve) => server.close(resolve));
  return url;
}

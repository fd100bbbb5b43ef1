/**
 * A lean HTTP/1.1 keep-alive client for the builtin driver's closed model: one `node:net` socket, one
 * request at a time (the closed loop sends the next request when the previous one answered).
 *
 * Why not undici here: at saturation the per-request CPU of the client is the throughput, and undici's
 * general machinery (dispatcher queue, handler objects, llhttp in WASM, header arrays) costs ~10 % more
 * than autocannon's. This client writes a request as one latin1 string, reads into one reused buffer
 * per socket (`onread`), and parses only what the recorder needs: the status, `x-served-by`, and how
 * the body is delimited (`content-length`, `transfer-encoding: chunked`, `connection: close`, or the
 * end of the connection). The body itself is skipped.
 *
 * Failures: a socket error, a reset, a close before the response is complete, a malformed response or
 * a timeout (no progress for `timeoutMs`) ends the request in flight with status 0 (a transport error,
 * as the undici path reports it) and drops the socket; the next request opens a new one. A response
 * with `Connection: close` (or an HTTP/1.0 one without keep-alive) is complete, and the next request
 * also goes out on a new socket.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';

export interface ClosedLoopClientOptions {
  host: string;
  port: number;
  /** A request that makes no progress (connect, headers or body bytes) for this long fails with status 0. */
  timeoutMs: number;
  /**
   * Called once per request sent, with the status (0: transport error) and the `x-served-by` header
   * (repeated headers joined with `, `; `` if absent). Never called synchronously from `send`.
   */
  onResponse: (status: number, servedBy: string) => void;
}

/** Parser phases. */
const IDLE = 0;
const HEAD = 1;
const BODY_LENGTH = 2;
const CHUNK_SIZE = 3;
const CHUNK_DATA = 4;
const CHUNK_CRLF = 5;
const TRAILERS = 6;
const BODY_UNTIL_CLOSE = 7;

const READ_BUFFER_BYTES = 64 * 1024;
/** A response head (or a chunk-size or trailer line) longer than this is a protocol error. */
const MAX_HEAD_BYTES = 64 * 1024;

const CR = 13;
const LF = 10;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/** Lower-case ASCII header names the parser looks for, as byte arrays. */
const H_CONTENT_LENGTH = Buffer.from('content-length', 'latin1');
const H_TRANSFER_ENCODING = Buffer.from('transfer-encoding', 'latin1');
const H_CONNECTION = Buffer.from('connection', 'latin1');
const H_SERVED_BY = Buffer.from('x-served-by', 'latin1');

function nameIs(data: Buffer, start: number, len: number, name: Buffer): boolean {
  if (len !== name.length) return false;
  for (let i = 0; i < len; i++) {
    // `| 0x20` lower-cases ASCII letters and leaves `-` (0x2d) alone; names here are letters and `-`.
    if ((data[start + i] | 0x20) !== name[i]) return false;
  }
  return true;
}

class ProtocolError extends Error {}

export class ClosedLoopClient {
  private socket: Socket | null = null;
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private closed = false;

  // State of the request in flight.
  private phase = IDLE;
  private pending: Buffer | null = null;
  private remaining = 0;
  private status = 0;
  private servedBy = '';
  private closeAfter = false;
  private chunked = false;
  /** A transfer-encoding other than chunked: the body runs to the end of the connection. */
  private untilClose = false;
  private contentLength = -1;
  private http10 = false;
  private keepAlive10 = false;

  // Timeout bookkeeping: `progress` counts reads; the sweep compares it with what it saw last time.
  private progress = 0;
  private seenProgress = -1;
  private idleMs = 0;
  private readonly sweepMs: number;
  private sweep: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ClosedLoopClientOptions) {
    this.sweepMs = Math.max(5, Math.min(1000, Math.floor(opts.timeoutMs / 10)));
  }

  /** Requests in flight on this connection: 0 or 1. */
  get inFlight(): number {
    return this.phase === IDLE ? 0 : 1;
  }

  /**
   * Sends one serialised request (`GET /path HTTP/1.1\r\nhost: …\r\n…\r\n\r\n`, latin1, no body).
   * Only one request may be in flight; after `close()` the request fails at once (asynchronously).
   */
  send(request: string): void {
    if (this.phase !== IDLE) throw new Error('ClosedLoopClient.send: a request is already in flight');
    this.phase = HEAD;
    this.status = 0;
    this.servedBy = '';
    this.closeAfter = false;
    this.chunked = false;
    this.untilClose = false;
    this.contentLength = -1;
    this.http10 = false;
    this.keepAlive10 = false;
    this.pending = null;
    this.idleMs = 0;
    if (this.closed) {
      queueMicrotask(() => this.fail());
      return;
    }
    let socket = this.socket;
    if (socket === null) socket = this.open();
    socket.write(request, 'latin1');
    if (this.sweep === undefined) {
      this.sweep = setInterval(() => this.checkTimeout(), this.sweepMs);
      this.sweep.unref();
    }
  }

  /** Closes the socket; a request in flight fails with status 0 (synchronously). No further requests. */
  close(): void {
    this.closed = true;
    if (this.sweep !== undefined) clearInterval(this.sweep);
    this.sweep = undefined;
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) socket.destroy();
    if (this.phase !== IDLE) this.fail();
  }

  private open(): Socket {
    const socket = connect({
      host: this.opts.host,
      port: this.opts.port,
      noDelay: true,
      onread: {
        buffer: this.readBuffer,
        callback: (nread: number, buf: Uint8Array) => {
          if (this.socket !== socket) return false;
          this.progress++;
          this.feed(socket, buf as Buffer, nread);
          return true;
        },
      },
    });
    // Errors are reported by 'close' (which always follows), where the request in flight fails.
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.phase === BODY_UNTIL_CLOSE) this.complete();
      else if (this.phase !== IDLE) this.fail();
    });
    this.socket = socket;
    return socket;
  }

  private checkTimeout(): void {
    if (this.phase === IDLE) {
      this.idleMs = 0;
      return;
    }
    if (this.progress !== this.seenProgress) {
      this.seenProgress = this.progress;
      this.idleMs = 0;
      return;
    }
    this.idleMs += this.sweepMs;
    if (this.idleMs >= this.opts.timeoutMs) this.drop();
  }

  /** Drops the socket and fails the request in flight. */
  private drop(): void {
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) socket.destroy();
    if (this.phase !== IDLE) this.fail();
  }

  private fail(): void {
    this.phase = IDLE;
    this.pending = null;
    this.opts.onResponse(0, '');
  }

  private complete(): void {
    this.phase = IDLE;
    const status = this.status;
    const servedBy = this.servedBy;
    this.opts.onResponse(status, servedBy);
  }

  private feed(socket: Socket, buf: Buffer, nread: number): void {
    let data: Buffer;
    if (this.pending !== null) {
      data = Buffer.concat([this.pending, buf.subarray(0, nread)]);
      this.pending = null;
    } else {
      data = buf.subarray(0, nread);
    }
    let pos: number;
    try {
      pos = this.parse(data, 0, data.length);
      if (this.phase !== IDLE && pos < data.length) {
        // An incomplete line: keep a copy (the read buffer is reused).
        if (data.length - pos > MAX_HEAD_BYTES) throw new ProtocolError('response head too long');
        this.pending = Buffer.from(data.subarray(pos));
      }
    } catch {
      this.drop();
      return;
    }
    if (this.phase === IDLE) {
      // Done with this response. Bytes beyond it answer nothing we asked: drop the connection.
      if (this.closeAfter || pos < data.length) {
        this.socket = null;
        socket.destroy();
      }
      // Outside the try: the callback sends the next request, and its failures are not ours.
      this.complete();
    }
  }

  /**
   * Parses `data[pos, end)`; returns where it stopped: at the end of a complete response (phase IDLE),
   * at `end`, or at the start of an incomplete line (to be kept for the next read).
   */
  private parse(data: Buffer, pos: number, end: number): number {
    while (pos < end) {
      switch (this.phase) {
        case HEAD: {
          const headEnd = data.indexOf(CRLFCRLF, pos);
          if (headEnd < 0) return pos;
          this.parseHead(data, pos, headEnd + 2);
          pos = headEnd + 4;
          if ((this.phase as number) === IDLE) return pos;
          break;
        }
        case BODY_LENGTH: {
          const n = Math.min(this.remaining, end - pos);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.phase = IDLE;
            return pos;
          }
          break;
        }
        case CHUNK_SIZE: {
          const lf = data.indexOf(LF, pos);
          if (lf < 0) return pos;
          let size = 0;
          let digits = 0;
          let i = pos;
          for (; i < lf; i++) {
            const c = data[i];
            let d: number;
            if (c >= 48 && c <= 57) d = c - 48;
            else if (c >= 97 && c <= 102) d = c - 87;
            else if (c >= 65 && c <= 70) d = c - 55;
            else break;
            size = size * 16 + d;
            digits++;
          }
          // After the digits: optional whitespace, extensions (`;…`), then CRLF.
          if (digits === 0 || digits > 12) throw new ProtocolError('bad chunk size');
          const c = data[i];
          if (c !== CR && c !== 59 /* ; */ && c !== 32 && c !== 9) throw new ProtocolError('bad chunk size');
          pos = lf + 1;
          if (size === 0) this.phase = TRAILERS;
          else {
            this.remaining = size;
            this.phase = CHUNK_DATA;
          }
          break;
        }
        case CHUNK_DATA: {
          const n = Math.min(this.remaining, end - pos);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.phase = CHUNK_CRLF;
            this.remaining = 2;
          }
          break;
        }
        case CHUNK_CRLF: {
          const c = data[pos];
          if (this.remaining === 2 ? c !== CR : c !== LF) throw new ProtocolError('bad chunk end');
          pos++;
          if (--this.remaining === 0) this.phase = CHUNK_SIZE;
          break;
        }
        case TRAILERS: {
          const lf = data.indexOf(LF, pos);
          if (lf < 0) return pos;
          const empty = lf === pos || (lf === pos + 1 && data[pos] === CR);
          pos = lf + 1;
          if (empty) {
            this.phase = IDLE;
            return pos;
          }
          break;
        }
        case BODY_UNTIL_CLOSE:
          return end;
        default:
          // IDLE: bytes nobody asked for.
          throw new ProtocolError('unexpected data');
      }
    }
    return pos;
  }

  /** Parses the head in `data[start, end)` (status line and header lines, each ending in CRLF). */
  private parseHead(data: Buffer, start: number, end: number): void {
    // "HTTP/1.x SSS"
    if (end - start < 14 || data[start] !== 72 /* H */ || data[start + 4] !== 47 /* / */ || data[start + 8] !== 32)
      throw new ProtocolError('bad status line');
    const s0 = data[start + 9] - 48;
    const s1 = data[start + 10] - 48;
    const s2 = data[start + 11] - 48;
    if (s0 < 1 || s0 > 5 || s1 < 0 || s1 > 9 || s2 < 0 || s2 > 9) throw new ProtocolError('bad status');
    const status = s0 * 100 + s1 * 10 + s2;
    this.http10 = data[start + 7] === 48; /* 0 */
    let line = data.indexOf(LF, start) + 1;
    while (line < end) {
      let lf = data.indexOf(LF, line);
      if (lf < 0 || lf >= end) lf = end - 1;
      const lineEnd = data[lf - 1] === CR ? lf - 1 : lf;
      let colon = line;
      while (colon < lineEnd && data[colon] !== 58 /* : */) colon++;
      const nameLen = colon - line;
      if (colon < lineEnd && (nameLen === 10 || nameLen === 11 || nameLen === 14 || nameLen === 17)) {
        let vs = colon + 1;
        while (vs < lineEnd && (data[vs] === 32 || data[vs] === 9)) vs++;
        let ve = lineEnd;
        while (ve > vs && (data[ve - 1] === 32 || data[ve - 1] === 9)) ve--;
        if (nameIs(data, line, nameLen, H_SERVED_BY)) {
          const v = data.toString('latin1', vs, ve);
          this.servedBy = this.servedBy === '' ? v : `${this.servedBy}, ${v}`;
        } else if (nameIs(data, line, nameLen, H_CONTENT_LENGTH)) {
          let n = 0;
          if (ve === vs || ve - vs > 15) throw new ProtocolError('bad content-length');
          for (let i = vs; i < ve; i++) {
            const d = data[i] - 48;
            if (d < 0 || d > 9) throw new ProtocolError('bad content-length');
            n = n * 10 + d;
          }
          if (this.contentLength >= 0 && this.contentLength !== n)
            throw new ProtocolError('conflicting content-length');
          this.contentLength = n;
        } else if (nameIs(data, line, nameLen, H_TRANSFER_ENCODING)) {
          // The last coding decides: chunked, or else the body runs to the end of the connection.
          this.chunked = /(?:^|,)\s*chunked\s*$/i.test(data.toString('latin1', vs, ve));
          this.untilClose = !this.chunked;
        } else if (nameIs(data, line, nameLen, H_CONNECTION)) {
          const v = data.toString('latin1', vs, ve).toLowerCase();
          if (/(?:^|[\s,])close(?:$|[\s,])/.test(v)) this.closeAfter = true;
          if (/(?:^|[\s,])keep-alive(?:$|[\s,])/.test(v)) this.keepAlive10 = true;
        }
      }
      line = lf + 1;
    }
    if (status < 200 && status !== 101) {
      // Informational (100 Continue, 103 Early Hints): the real response follows.
      this.servedBy = '';
      this.contentLength = -1;
      this.chunked = false;
      this.untilClose = false;
      this.closeAfter = false;
      this.phase = HEAD;
      return;
    }
    if (status === 101) throw new ProtocolError('unexpected upgrade');
    this.status = status;
    if (this.http10 && !this.keepAlive10) this.closeAfter = true;
    if (status === 204 || status === 304) this.phase = IDLE;
    else if (this.chunked) this.phase = CHUNK_SIZE;
    else if (!this.untilClose && this.contentLength >= 0) {
      this.remaining = this.contentLength;
      this.phase = this.remaining === 0 ? IDLE : BODY_LENGTH;
    } else {
      this.closeAfter = true;
      this.phase = BODY_UNTIL_CLOSE;
    }
  }
}

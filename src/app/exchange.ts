/**
 * One request and its answer, as the three apps see it: the parsed path and query, the request id,
 * and JSON answers that always carry `x-served-by` and `x-request-id` (DESIGN.md).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** The raw query string without `?` ('' when there is none); parse it with `queryParams`. */
  readonly rawQuery: string;
  /** The caller's `x-request-id`, or one generated for this request. */
  readonly requestId: string;
}

export function queryParams(exchange: Exchange): URLSearchParams {
  return new URLSearchParams(exchange.rawQuery);
}

/** Sends a JSON body that is already serialised (the hot path: no re-encoding). */
export function sendJsonText(
  exchange: Exchange,
  status: number,
  json: string,
  servedBy: string,
  extraHeaders?: Record<string, string>,
): void {
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    'x-served-by': servedBy,
    'x-request-id': exchange.requestId,
  };
  if (extraHeaders) Object.assign(headers, extraHeaders);
  exchange.res.writeHead(status, headers);
  exchange.res.end(json);
}

export function sendJson(exchange: Exchange, status: number, body: unknown, servedBy: string): void {
  sendJsonText(exchange, status, JSON.stringify(body), servedBy);
}

/** The JSON error shape every app answers with: `{ "error": "...", ...details }`. */
export function sendError(
  exchange: Exchange,
  status: number,
  message: string,
  servedBy: string,
  details?: Record<string, unknown>,
): void {
  sendJson(exchange, status, details ? { error: message, ...details } : { error: message }, servedBy);
}

export function sendMethodNotAllowed(exchange: Exchange, allowed: string, servedBy: string): void {
  sendJsonText(
    exchange,
    405,
    JSON.stringify({ error: `${exchange.method} ${exchange.path}: method not allowed; use ${allowed}` }),
    servedBy,
    { allow: allowed },
  );
}

export function sendNotFound(exchange: Exchange, servedBy: string): void {
  sendError(exchange, 404, `no route for ${exchange.method} ${exchange.path}`, servedBy);
}

const ID_PATTERN = /^[1-9][0-9]{0,9}$/;

/**
 * A positive integer id from a path segment or query value, or an error message naming the field
 * (for a 400 answer).
 */
export function parseId(raw: string, field: string): { id: number } | { problem: string } {
  if (ID_PATTERN.test(raw)) {
    const id = Number(raw);
    if (id <= Number.MAX_SAFE_INTEGER) return { id };
  }
  return { problem: `${field}: expected a positive integer, got '${raw}'` };
}

/**
 * `x-served-by` for an answer: this workload first, then each upstream's list in call order, with
 * repeats removed (a workload that served twice is listed once, where it first appeared).
 */
export function composeServedBy(own: string, upstreamLists: readonly (string | undefined)[]): string {
  const seen = [own];
  for (const list of upstreamLists) {
    if (!list) continue;
    for (const part of list.split(',')) {
      const name = part.trim();
      if (name !== '' && !seen.includes(name)) seen.push(name);
    }
  }
  return seen.join(', ');
}

/** First value of a request header (Node gives arrays for repeated headers). */
export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

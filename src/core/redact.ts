/**
 * Credentials in URLs never reach a log, an error or a report: the password of a URL's user info
 * (`mysql://user:secret@host`) and the value of any query parameter whose name says it holds one
 * (`?password=`, `&pwd=`, `token`, `access_token`, `secret`, `api_key`, …) become `***`. Works on
 * free text (a line of a child's output, an error message, HTML-escaped text), so it also catches a
 * URL that is not a URL on its own line.
 */

/** Parameter names that hold a credential: password, passwd, pass, pwd, *token*, *secret*, api key. */
const SECRET_PARAM = /([?&;](?:[\w.-]*?(?:pass(?:word|wd)?|pwd|token|secret|api[-_]?key)[\w.-]*)=)([^&#\s"'<>;]*)/gi;
/** `scheme://user:password@` (the password may be empty; the user name is kept). */
const USER_INFO = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/?#@:'"<>]*:)([^\s/?#@'"<>]*)@/gi;

export const REDACTED = '***';

export function redactSecrets(text: string): string {
  return text.replace(USER_INFO, `$1${REDACTED}@`).replace(SECRET_PARAM, `$1${REDACTED}`);
}

/** A deep copy of plain JSON data with every string redacted. */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactSecrets(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v);
    return out as T;
  }
  return value;
}

/**
 * Redacts everything the process writes to stdout and stderr, so no code path (a library's error, a
 * child's output forwarded line by line) can print a credential. Installed once by `bin/canary.js`.
 */
export function redactProcessOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (typeof chunk === 'string') return write(redactSecrets(chunk), ...rest);
      if (chunk instanceof Uint8Array) return write(redactSecrets(Buffer.from(chunk).toString('utf8')), ...rest);
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
}

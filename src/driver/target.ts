/**
 * Pre-flight check of a load target: any HTTP answer (even 404) means it is up; a refused, reset or
 * silent connection is an `InfraError` naming the URL and which of these it was, within `timeoutMs` (the
 * CLI promises 5 s).
 */
import { request } from 'undici';
import { InfraError, UsageError } from '../core/errors.ts';

export function parseTarget(target: string, flag = '--target'): URL {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new UsageError(flag, `expected an http:// URL, got "${target}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(flag, `expected an http:// URL, got "${target}"`);
  return url;
}

export async function assertTargetReachable(target: string, timeoutMs = 3000): Promise<void> {
  const url = parseTarget(target);
  try {
    const res = await request(url, {
      method: 'GET',
      // The headers timeout runs only once the request is on a connection: when it fires, the target
      // took the connection and never answered. The overall signal is a backstop, a little later.
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs + 1000),
    });
    await res.body.dump();
  } catch (err) {
    const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      throw new InfraError(
        `load target ${target} accepts connections but sent no answer within ${timeoutMs} ms (is it hung, or not an HTTP server?)`,
        { cause: err },
      );
    }
    if (code === 'UND_ERR_SOCKET') {
      throw new InfraError(`load target ${target} accepted the connection but closed it without an answer`, {
        cause: err,
      });
    }
    const why = err instanceof Error ? `${code ?? err.name}: ${err.message}` : String(err);
    throw new InfraError(`load target ${target} is unreachable (${why})`, { cause: err });
  }
}

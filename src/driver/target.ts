/**
 * Pre-flight check of a load target: any HTTP answer (even 404) means it is up; a refused, reset or
 * silent connection is an `InfraError` naming the URL, within `timeoutMs` (the CLI promises 5 s).
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
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
    });
    await res.body.dump();
  } catch (err) {
    const why =
      err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.name) + `: ${err.message}` : String(err);
    throw new InfraError(`load target ${target} is unreachable (${why})`, { cause: err });
  }
}

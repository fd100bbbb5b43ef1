/** One line for a failed HTTP call (timeout, refused connection…), for a measurement's `reason`. */
export function describeError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
    const code = (err as { code?: unknown }).code;
    const cause = (err as { cause?: unknown }).cause;
    const causeCode = cause instanceof Error ? (cause as { code?: unknown }).code : undefined;
    return [code ?? causeCode, err.message].filter(Boolean).join(' ');
  }
  return String(err);
}

/**
 * Test support for the data plane's suites (not used by the mesh itself): read a sample out of a
 * Prometheus text exposition. Serving and calling live in test/support/http.ts.
 */

/** Sum of the samples of `name` whose labels include every label given (0 when none). */
export function sampleSum(exposition: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const open = line.indexOf('{');
    const close = line.lastIndexOf('}');
    const have: Record<string, string> = {};
    if (open >= 0) {
      for (const m of line.slice(open + 1, close).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) have[m[1]] = m[2];
    }
    if (Object.entries(labels).every(([k, v]) => have[k] === v))
      sum += Number(
        line
          .slice(close + 1)
          .trim()
          .split(' ')[0],
      );
  }
  return sum;
}

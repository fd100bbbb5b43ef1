/**
 * "Did you mean …?" for a mistyped command, flag or configuration key: the known names within a
 * small edit distance (Damerau-Levenshtein with adjacent transpositions), closest first.
 */

/** Edit distance with insertions, deletions, substitutions and adjacent transpositions. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/** Known names close to `input` (at most a third of its length away, at least 1, at most 3), closest first. */
export function suggest(input: string, known: Iterable<string>): string[] {
  const limit = Math.min(3, Math.max(1, Math.floor(input.length / 3)));
  const lower = input.toLowerCase();
  return [...new Set(known)]
    .map((name) => ({ name, d: editDistance(lower, name.toLowerCase()) }))
    .filter((c) => c.d <= limit || (lower.length >= 3 && c.name.toLowerCase().startsWith(lower)))
    .sort((x, y) => x.d - y.d || x.name.localeCompare(y.name))
    .map((c) => c.name);
}

/** `; did you mean "x"?` or `''`. */
export function didYouMean(input: string, known: Iterable<string>, quote = (s: string) => `"${s}"`): string {
  const s = suggest(input, known);
  if (s.length === 0) return '';
  return `; did you mean ${s.slice(0, 3).map(quote).join(' or ')}?`;
}

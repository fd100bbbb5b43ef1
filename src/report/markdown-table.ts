/** A GitHub-flavoured Markdown table; cell text has pipes and line breaks escaped. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align?: readonly ('left' | 'right')[],
): string {
  const cell = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  const rule = header.map((_, i) => (align?.[i] === 'right' ? '---:' : '---'));
  return [header, rule, ...rows]
    .map((r) => `| ${r.map((c, _i) => (r === rule ? c : cell(c))).join(' | ')} |`)
    .join('\n');
}

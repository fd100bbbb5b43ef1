/** One report format rendered from `result.json`. */
import type { RunResult } from '../canary/result.ts';
import { renderHtml } from './html.ts';
import { renderJunit } from './junit.ts';
import { renderMarkdown } from './markdown.ts';

export interface Reporter {
  /** File name inside `reports/<run-id>/`. */
  file: string;
  render(result: RunResult): string;
}

export const reporters: readonly Reporter[] = [
  { file: 'report.md', render: renderMarkdown },
  { file: 'report.html', render: renderHtml },
  { file: 'junit.xml', render: renderJunit },
];

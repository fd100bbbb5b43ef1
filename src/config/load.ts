/**
 * Reads an analysis file from disk: the one file of src/config that does I/O, so that the rest of
 * the folder (the schema and its parser) stays pure for the judge and the plan.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../core/errors.ts';
import { type AnalysisConfig, parseAnalysisConfigText } from './analysis.ts';

export async function loadAnalysisConfig(file: string): Promise<AnalysisConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, '', `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseAnalysisConfigText(text, file);
}

/**
 * Reads an analysis file from disk: the one file of src/config that does I/O, so that the rest of
 * the folder (the schema and its parser) stays pure for the judge and the plan.
 */
import { readTextFile } from '../core/text-file.ts';
import { type AnalysisConfig, parseAnalysisConfigText } from './analysis.ts';

export async function loadAnalysisConfig(file: string): Promise<AnalysisConfig> {
  return parseAnalysisConfigText(await readTextFile(file), file);
}

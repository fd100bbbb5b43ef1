/**
 * Writes `analysis/schema.json` from the analysis schema: `npx tsx src/config/generate-schema.ts`.
 * `analysis.test.ts` fails when the committed file differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { analysisJsonSchemaText } from './analysis.ts';

const target = fileURLToPath(new URL('../../analysis/schema.json', import.meta.url));
writeFileSync(target, analysisJsonSchemaText());
process.stdout.write(`wrote ${target}\n`);

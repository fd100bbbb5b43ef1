// Writes docs/istio-fields.md from the field list of the local data plane (src/mesh/supported-fields.ts).
import { writeFile } from 'node:fs/promises';
import { fieldTableMarkdown } from '../src/mesh/supported-fields.ts';

await writeFile('docs/istio-fields.md', fieldTableMarkdown());

/**
 * The one place that turns YAML text into data (manifests, analysis configs, PromQL templates).
 * A malformed file is a `ConfigError` naming the file, the line and column, and the parser's first
 * line of complaint; nothing reads YAML any other way, so every file gets the same message.
 */
import { type Document, LineCounter, parseAllDocuments } from 'yaml';
import { ConfigError } from './errors.ts';

export interface YamlDocuments {
  documents: Document[];
  /** Maps offsets in `text` to line and column, for messages that point into the file. */
  lines: LineCounter;
}

/** Every document of a YAML stream; throws ConfigError on the first malformed one. */
export function parseYamlDocuments(file: string, text: string): YamlDocuments {
  const lines = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  // A stream that fails to split into documents comes back as one object with the errors.
  const documents = (Array.isArray(parsed) ? parsed : [parsed]) as Document[];
  for (const document of documents) {
    const error = document.errors[0];
    if (error) {
      const at = error.linePos?.[0] ?? lines.linePos(error.pos[0]);
      throw new ConfigError(file, `line ${at.line}, column ${at.col}`, `malformed YAML: ${firstLine(error.message)}`);
    }
  }
  return { documents, lines };
}

/** A file of one YAML document as plain data (`null` when empty); a second document is an error. */
export function parseYaml(file: string, text: string): unknown {
  const { documents } = parseYamlDocuments(file, text);
  if (documents.length > 1) throw new ConfigError(file, '', `expected one YAML document, got ${documents.length}`);
  return documents.length === 0 ? null : documents[0].toJS({ maxAliasCount: 100 });
}

function firstLine(message: string): string {
  return message.split('\n')[0];
}

import { readFile } from 'node:fs/promises';
import { ConfigError } from './errors.ts';

/** A user's input file as UTF-8 text; an unreadable file is a ConfigError naming it and the reason. */
export async function readTextFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, '', `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

import { renameSync, writeFileSync } from 'node:fs';

/** Writes a whole file or nothing: a reader never sees half a report (temp file, then rename). */
export function writeFileAtomic(file: string, content: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, content);
  renameSync(temp, file);
}

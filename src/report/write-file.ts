import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The file-system calls an atomic write makes; injectable so a test can play a full disk. */
export interface WriteFs {
  writeFileSync: (file: string, content: string) => void;
  renameSync: (from: string, to: string) => void;
  rmSync: (file: string, options: { force: true }) => void;
  mkdirSync: (dir: string, options: { recursive: true }) => void;
}

const NODE_FS: WriteFs = { writeFileSync, renameSync, rmSync, mkdirSync };

/**
 * Writes a whole file or nothing: a reader never sees half a report (temp file, then rename), and a
 * write that fails (a full disk) removes its temp file before the error goes on.
 */
export function writeFileAtomic(
  file: string,
  content: string,
  options: { createDir?: boolean; fs?: WriteFs } = {},
): void {
  const fs = options.fs ?? NODE_FS;
  if (options.createDir) fs.mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temp, content);
    fs.renameSync(temp, file);
  } catch (err) {
    try {
      fs.rmSync(temp, { force: true });
    } catch {
      // The temp file may be gone already; the write's own error is the one to report.
    }
    throw err;
  }
}

/**
 * Proves, before a run starts, that `dir` can take its reports: creates it if needed, writes and
 * removes a probe file, and checks that `files` inside it (the history database) are writable files if
 * they exist. Returns the problem in one line, or null. Tried for real rather than with access(2),
 * which says yes to root on a read-only mount or a full disk's directory.
 */
export function writableProblem(dir: string, files: string[] = []): string | null {
  const code = (err: unknown): string => {
    const e = err as NodeJS.ErrnoException;
    return `${e.code ?? 'error'}: ${e.message}`;
  };
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    return `cannot create ${dir} (${code(err)})`;
  }
  const probe = join(dir, `.write-check-${process.pid}`);
  try {
    writeFileSync(probe, 'probe\n');
  } catch (err) {
    return `cannot write in ${dir} (${code(err)})`;
  } finally {
    try {
      rmSync(probe, { force: true });
    } catch {
      // Nothing was created.
    }
  }
  for (const file of files) {
    let fd: number | undefined;
    try {
      if (!existsSync(file)) continue;
      fd = openSync(file, 'r+');
    } catch (err) {
      return `cannot write ${file} (${code(err)})`;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  return null;
}

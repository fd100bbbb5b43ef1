import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  renameSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleRunResult } from './fixtures/run-result.ts';
import { ReportWriteError, renderReports } from './render-reports.ts';
import { type WriteFs, writeFileAtomic } from './write-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'write-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A disk that fills up while `victim` is written: the temp file gets half its bytes, then ENOSPC. */
function fullDiskFor(victim: string): WriteFs {
  return {
    writeFileSync: (file, content) => {
      if (file.startsWith(victim)) {
        writeFileSync(file, content.slice(0, content.length >> 1));
        throw Object.assign(new Error(`ENOSPC: no space left on device, write '${file}'`), { code: 'ENOSPC' });
      }
      writeFileSync(file, content);
    },
    renameSync,
    rmSync,
    mkdirSync,
  };
}

describe('writeFileAtomic', () => {
  it('on a full disk leaves neither the file nor its temp file', () => {
    const file = join(dir, 'a.txt');
    expect(() => writeFileAtomic(file, 'x'.repeat(1000), { fs: fullDiskFor(file) })).toThrow(/ENOSPC/);
    expect(readdirSync(dir).filter((f) => f.startsWith('a.txt'))).toEqual([]);
  });
});

describe('renderReports on a full disk', () => {
  it('writes every other report whole, leaves no temp file, and names what failed', () => {
    const runDir = join(dir, 'run');
    mkdirSync(runDir);
    writeFileSync(join(runDir, 'result.json'), '{"kept":true}\n');
    const err = (() => {
      try {
        renderReports(sampleRunResult(), runDir, {
          historyFile: null,
          stepSummary: undefined,
          fs: fullDiskFor(join(runDir, 'report.html')),
        });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ReportWriteError);
    expect((err as ReportWriteError).failures.map((f) => f.file)).toEqual([join(runDir, 'report.html')]);
    expect((err as Error).message).toMatch(/report\.html \(ENOSPC/);
    expect(readdirSync(runDir).sort()).toEqual(['junit.xml', 'report.md', 'result.json']);
    expect(readFileSync(join(runDir, 'junit.xml'), 'utf8')).toMatch(/<\/testsuites>\s*$/);
    expect(existsSync(join(runDir, 'result.json'))).toBe(true);
  });
});

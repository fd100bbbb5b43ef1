import { describe, expect, it } from 'vitest';
import { allCommands, COMMAND_SUMMARIES, unknownArgumentsMessage } from './main.ts';

describe('canary main', () => {
  it('lists at the top level exactly the commands it has, with their own descriptions and examples', async () => {
    const commands = await allCommands();
    expect(COMMAND_SUMMARIES).toEqual(commands.map((c) => ({ command: c.command, describe: c.describe })));
    for (const c of commands) expect(c.examples.length, c.command).toBeGreaterThan(0);
  });

  it('names each unknown flag once, with a dash, suggesting a known one', () => {
    expect(unknownArgumentsMessage('Unknown arguments: bogus-flag, bogusFlag, jsn', ['json', 'config', 'help'])).toBe(
      'unknown flags --bogus-flag, --jsn (did you mean --json?) (see --help)',
    );
    expect(unknownArgumentsMessage('Not enough arguments', [])).toBeNull();
  });
});

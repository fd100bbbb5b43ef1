import { defineCommand } from '../command.ts';
import { UsageError } from '../../core/errors.ts';

// Placeholder until the run command lands; it fails loudly rather than pretending.
export const runCommand = defineCommand({
  command: 'run',
  describe: 'run (not built yet)',
  builder: (y) => y,
  run: async () => {
    throw new UsageError('run', 'this command is not built yet');
  },
});

import { defineCommand } from '../command.ts';
import { UsageError } from '../../core/errors.ts';

// Placeholder until the load command lands; it fails loudly rather than pretending.
export const loadCommand = defineCommand({
  command: 'load',
  describe: 'load (not built yet)',
  builder: (y) => y,
  run: async () => {
    throw new UsageError('load', 'this command is not built yet');
  },
});

import { defineCommand } from '../command.ts';
import { UsageError } from '../../core/errors.ts';

// Placeholder until the compare command lands; it fails loudly rather than pretending.
export const compareCommand = defineCommand({
  command: 'compare',
  describe: 'compare (not built yet)',
  builder: (y) => y,
  run: async () => {
    throw new UsageError('compare', 'this command is not built yet');
  },
});

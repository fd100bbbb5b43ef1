import { defineCommand } from '../command.ts';
import { UsageError } from '../../core/errors.ts';

// Placeholder until the analyze command lands; it fails loudly rather than pretending.
export const analyzeCommand = defineCommand({
  command: 'analyze',
  describe: 'analyze (not built yet)',
  builder: (y) => y,
  run: async () => {
    throw new UsageError('analyze', 'this command is not built yet');
  },
});

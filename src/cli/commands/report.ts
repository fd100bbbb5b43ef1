import { defineCommand } from '../command.ts';
import { UsageError } from '../../core/errors.ts';

// Placeholder until the report command lands; it fails loudly rather than pretending.
export const reportCommand = defineCommand({
  command: 'report',
  describe: 'report (not built yet)',
  builder: (y) => y,
  run: async () => {
    throw new UsageError('report', 'this command is not built yet');
  },
});

import { defineCommand } from '../command.ts';
import { UsageError } from '../../core/errors.ts';

// Placeholder until the mesh command lands; it fails loudly rather than pretending.
export const meshCommand = defineCommand({
  command: 'mesh',
  describe: 'mesh (not built yet)',
  builder: (y) => y,
  run: async () => {
    throw new UsageError('mesh', 'this command is not built yet');
  },
});

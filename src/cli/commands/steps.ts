import { defineCommand, type CliCommand } from '../command.ts';
import { UsageError } from '../../core/errors.ts';

// Placeholders for deploy / route / promote / rollback until the platform lands.
export const stepCommands: CliCommand<any>[] = ['deploy', 'route', 'promote', 'rollback'].map((name) =>
  defineCommand({
    command: name,
    describe: `${name} (not built yet)`,
    builder: (y) => y,
    run: async () => {
      throw new UsageError(name, 'this command is not built yet');
    },
  }),
);

import type { Command } from 'commander';

/** Every command module registers its subcommands on the program. Add yours here. */
export const commands: Array<(program: Command) => void> = [];

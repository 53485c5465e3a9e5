import type { Command } from 'commander';
import { registerAlertsCommand } from './alerts.ts';
import { registerDevicesCommand } from './devices.ts';
import { registerOperatorsCommand } from './operators.ts';
import { registerDeadLettersCommand } from './dead-letters.ts';
import { registerStorageCommand } from './storage.ts';

/** Every command module registers its subcommands on the program. Add yours here. */
export const commands: Array<(program: Command) => void> = [registerDevicesCommand, registerOperatorsCommand, registerDeadLettersCommand, registerAlertsCommand, registerStorageCommand];

import { Option, type Command } from 'commander';
import { OPERATOR_ROLES, OperatorNameSchema, operatorUsername, type OperatorRole } from '@city/registry';
import { CommandFailed, eachId, print, say, table, withRegistry } from './open-registry.ts';

const loginHint = (name: string) =>
  `log in with username ${operatorUsername(name)}, password = the token, and a client id that is ${operatorUsername(name)} or starts with ${operatorUsername(name)}:`;

/** `city operators …`: operator and service accounts (packages/registry). */
export function registerOperatorsCommand(program: Command): void {
  const operators = program
    .command('operators')
    .description('Operator accounts (role operator: subscribe to alerts and device status) and service accounts (role service: the worker publishing alerts).');

  operators
    .command('add <name>')
    .description('Create an account; prints its token (once) on stdout.')
    .addOption(new Option('--role <role>', 'what the account may do').choices(OPERATOR_ROLES).default('operator'))
    .action((name: string, opts: { role: OperatorRole }, command: Command) => {
      const valid = OperatorNameSchema.safeParse(name);
      if (!valid.success) throw new CommandFailed(`<name>: ${valid.error.issues[0]!.message}`);
      return withRegistry(command, async (registry) => {
        const added = await registry.addOperator(name, opts.role);
        if (!added.ok) throw new CommandFailed(`operator ${name} exists already (a new token: city operators rotate ${name})`);
        print(added.token);
        say(`created ${operatorUsername(name)} (role ${opts.role}). The token above is shown once; ${loginHint(name)}.`);
      });
    });

  operators
    .command('list')
    .description('List the accounts.')
    .option('--json', 'one JSON object per line')
    .action((opts: { json?: boolean }, command: Command) =>
      withRegistry(command, async (registry) => {
        const accounts = await registry.listOperators();
        if (opts.json) return accounts.forEach((a) => print(JSON.stringify(a)));
        print(table(['USERNAME', 'ROLE', 'ENABLED', 'TOKEN ISSUED'], accounts.map((a) => [operatorUsername(a.name), a.role, a.enabled ? 'yes' : 'no', new Date(a.tokenIssuedAt).toISOString()])));
      }),
    );

  operators
    .command('disable <names...>')
    .description('Refuse these accounts from now on; their live connections are closed within seconds.')
    .action((names: string[], _opts: unknown, command: Command) =>
      withRegistry(command, (registry) => eachId(names, (name) => registry.setOperatorEnabled(name, false), 'disabled', 'operator')),
    );

  operators
    .command('enable <names...>')
    .description('Let these accounts connect again.')
    .action((names: string[], _opts: unknown, command: Command) =>
      withRegistry(command, (registry) => eachId(names, (name) => registry.setOperatorEnabled(name, true), 'enabled', 'operator')),
    );

  operators
    .command('rotate <name>')
    .description('A new token, printed (once) on stdout; the old one stops working and its live connections are closed.')
    .action((name: string, _opts: unknown, command: Command) =>
      withRegistry(command, async (registry) => {
        const token = await registry.rotateOperatorToken(name);
        if (token === undefined) throw new CommandFailed(`no such operator: ${name}`);
        print(token);
        say(`${operatorUsername(name)}: new token above, shown once.`);
      }),
    );

  operators
    .command('delete <names...>')
    .description('Remove these accounts; their live connections are closed.')
    .action((names: string[], _opts: unknown, command: Command) =>
      withRegistry(command, (registry) => eachId(names, (name) => registry.deleteOperator(name), 'deleted', 'operator')),
    );
}

import { Command, CommanderError } from 'commander';
import { serveCommand, type ServeFlags } from './serve.ts';
import { publishCommand } from './publish.ts';
import { tailCommand } from './tail.ts';
import { tokensCommand, loginUrlCommand } from './tokens.ts';
import { webhooksCommand } from './webhooks.ts';
import { actCommand } from './act.ts';
import { actionsCommand } from './actions.ts';
import { statsCommand } from './stats.ts';
import { addGlobalOptions, CliError, EXIT, EXIT_CODES_HELP } from './common.ts';

/** `serve --demo`: run the demo publishers against the hub that was just started, over HTTP. */
async function runDemo(url: string, adminToken: string, flags: ServeFlags): Promise<() => Promise<void>> {
  const { startDemo } = await import('../demo/index.ts');
  const log = { info: (m: string) => process.stdout.write(m + '\n'), warn: (m: string) => process.stderr.write(m + '\n') };
  const demo = await startDemo({ url, adminToken, rate: flags.demoRate, seed: flags.demoSeed, log });
  return () => demo.stop();
}

/** Exit handling and help on every command, not only the root. */
function configure(cmd: Command): void {
  cmd.exitOverride().showHelpAfterError('(add --help for usage)');
  for (const c of cmd.commands) configure(c);
}

/** The `relaydesk` command line. Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = addGlobalOptions(
    new Command('relaydesk')
      .description('RelayDesk: a durable SSE hub and live operations console')
      .version('0.1.0')
      .addHelpText('after', EXIT_CODES_HELP),
  );
  program.addCommand(serveCommand(runDemo));
  program.addCommand(publishCommand());
  program.addCommand(tailCommand());
  program.addCommand(tokensCommand());
  program.addCommand(webhooksCommand());
  program.addCommand(actCommand());
  program.addCommand(actionsCommand());
  program.addCommand(statsCommand());
  program.addCommand(loginUrlCommand());
  configure(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // A CliError thrown from an option parser arrives wrapped; keep its code.
      return err.exitCode === 0 ? 0 : EXIT.usage;
    }
    if (err instanceof CliError) {
      if (err.message) process.stderr.write(`relaydesk: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`relaydesk: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
}

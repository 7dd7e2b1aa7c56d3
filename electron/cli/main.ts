import { Command, CommanderError } from 'commander';
import { serveCommand } from './serve.ts';

/** The `relaydesk` command line. Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('relaydesk')
    .description('RelayDesk: a durable SSE hub and live operations console')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError();
  program.addCommand(serveCommand());
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(`relaydesk: ${(err as Error).message}\n`);
    return 1;
  }
}

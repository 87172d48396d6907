/**
 * Local database commands — the same code paths as the db-migrate and db-maintain Lambdas.
 *
 *   npm run db:migrate  -- --url postgres://postgres@127.0.0.1:5432/connecthub
 *   npm run db:maintain -- --url postgres://postgres@127.0.0.1:5432/connecthub --archive-dir ./archive
 *   tsx tools/db.ts --help
 *
 * Errors are one line on stderr and exit code 1 (2 for a usage error).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { ArchiveSink, LocalFolderArchiveSink, S3ArchiveSink } from '../database/archive-sink';
import { CONNECT_TIMEOUT_MS, describeConnectionError, parseDatabaseUrl, redactUrl } from '../database/connection';
import { applyMigrations, DEFAULT_MIGRATIONS_DIR } from '../database/migrator';
import { runMaintenance, summarizeMaintenance } from '../database/partition-maintenance';

export const USAGE = `Usage: tsx tools/db.ts <command> --url postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE [options]

Commands:
  migrate    apply pending migrations (database/migrations) in order, each in a transaction
  maintain   run pg_partman maintenance, archive detached partitions (export, verify, drop)

Options:
  --url URL              PostgreSQL connection URL (required; sslmode=require etc. are honoured)
  --dir DIR              migrations directory (migrate; default database/migrations)
  --archive-dir DIR      archive detached partitions into this local folder (maintain; default ./archive)
  --archive-bucket NAME  archive into this S3 bucket instead (maintain; AWS credentials from the environment)
  --archive-prefix P     key prefix in the bucket (maintain; default "archive/")
  --archive-kms-key ARN  SSE-KMS key for the archive objects (maintain; default: the bucket's encryption)
  --json                 print the result as one JSON line
  -h, --help             show this help

npm scripts: npm run db:migrate -- --url ...   npm run db:maintain -- --url ... --archive-dir ./archive`;

const VALUE_OPTIONS = ['--url', '--dir', '--archive-dir', '--archive-bucket', '--archive-prefix', '--archive-kms-key'] as const;
type ValueOption = (typeof VALUE_OPTIONS)[number];

/** Parsed command line. */
export interface CommandLine {
  readonly command?: 'migrate' | 'maintain';
  readonly help: boolean;
  readonly json: boolean;
  readonly options: Partial<Record<ValueOption, string>>;
}

/** A usage error (exit code 2). */
export class UsageError extends Error {}

/** Parses argv (without node and script). Throws UsageError naming the bad argument. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  let command: CommandLine['command'];
  let help = false;
  let json = false;
  const options: Partial<Record<ValueOption, string>> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') { help = true; continue; }
    if (arg === '--json') { json = true; continue; }
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if ((VALUE_OPTIONS as readonly string[]).includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
      options[name as ValueOption] = value;
      continue;
    }
    if (arg.startsWith('-')) throw new UsageError(`unknown option "${arg}"; allowed: ${VALUE_OPTIONS.join(', ')}, --json, --help`);
    if (command !== undefined) throw new UsageError(`unexpected argument "${arg}": only one command is allowed`);
    if (arg !== 'migrate' && arg !== 'maintain') throw new UsageError(`unknown command "${arg}"; allowed: migrate, maintain`);
    command = arg;
  }
  if (!help && command === undefined) throw new UsageError('a command is required: migrate or maintain');
  return { command, help, json, options };
}

function sinkFor(options: CommandLine['options']): ArchiveSink {
  if (options['--archive-bucket']) {
    return new S3ArchiveSink({
      client: new S3Client({}),
      bucket: options['--archive-bucket'],
      prefix: options['--archive-prefix'] ?? 'archive/',
      kmsKeyArn: options['--archive-kms-key'],
    });
  }
  return new LocalFolderArchiveSink(options['--archive-dir'] ?? './archive');
}

/** Runs the CLI; returns the exit code. Output goes through `out`/`err` (one line per message). */
export async function main(argv: readonly string[], out: (line: string) => void, err: (line: string) => void): Promise<number> {
  let cli: CommandLine;
  try {
    cli = parseCommandLine(argv);
  } catch (e) {
    err(`error: ${(e as Error).message} (see --help)`);
    return 2;
  }
  if (cli.help) {
    out(USAGE);
    return 0;
  }
  let url: string;
  let sink: ArchiveSink | undefined;
  try {
    url = parseDatabaseUrl(cli.options['--url']);
    if (cli.command === 'maintain') sink = sinkFor(cli.options);
  } catch (e) {
    err(`error: ${(e as Error).message}`);
    return 1;
  }
  const where = redactUrl(url);
  const client = new Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'connecthub-db-cli' });
  // A dropped connection after connecting surfaces as an 'error' event; the awaited query reports it.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    err(`error: ${describeConnectionError(e, where)}`);
    return 1;
  }
  const log = cli.json ? () => undefined : out;
  try {
    if (cli.command === 'migrate') {
      const result = await applyMigrations(client, { directory: cli.options['--dir'] ?? DEFAULT_MIGRATIONS_DIR, log });
      if (cli.json) out(JSON.stringify(result));
      else out(result.applied.length === 0 ? `schema is up to date at version ${result.schemaVersion}` : `schema now at version ${result.schemaVersion}`);
      return 0;
    }
    const report = await runMaintenance(client, { sink: sink!, log });
    out(cli.json ? JSON.stringify(report) : summarizeMaintenance(report));
    return report.failed.length > 0 ? 1 : 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    err(`error: ${message.replace(/\s*\n\s*/g, ' ')}`);
    return 1;
  } finally {
    await client.end().catch(() => undefined);
  }
}

if (require.main === module) {
  main(process.argv.slice(2), (l) => process.stdout.write(`${l}\n`), (l) => process.stderr.write(`${l}\n`)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`error: ${(e as Error)?.message ?? String(e)}\n`);
      process.exit(1);
    },
  );
}

/**
 * SLO report for auditors: `npm run slo-report -- --env prod [--region us-east-1] [--window 30d] [--json]`.
 *
 * Reads the same CloudWatch metrics as the scheduled reporter Lambda (same code:
 * lambdas/slo-reporter/reporter.ts) with the caller's credentials (the AWS SDK default provider
 * chain: AWS_PROFILE / SSO, environment variables, web identity, container or instance roles) and
 * prints a table, or JSON with --json. It only reads (cloudwatch:GetMetricData); it publishes nothing.
 * Exit codes: 0 report printed, 1 missing/invalid credentials or AWS error, 2 bad flags.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { buildReport, formatTable, type CloudWatchLike, type SloReport } from '../lambdas/slo-reporter/reporter';
import { environmentRegions, parseWindow } from '../lambdas/slo-reporter/slo-definitions';

export interface CliOptions {
  readonly env: string;
  readonly regions: readonly string[];
  readonly window: string;
  readonly windowSeconds: number;
  readonly json: boolean;
}

export const USAGE = 'usage: npm run slo-report -- --env <dev|staging|prod|pr-N> [--region <region>] [--window <30d|7d|24h|90m>] [--json]';

/** Parses argv (without node and script); returns options, a help request, or every problem found. */
export function parseArgs(argv: readonly string[]): { options: CliOptions } | { help: true } | { errors: string[] } {
  const errors: string[] = [];
  const values: Record<string, string | undefined> = {};
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return { help: true };
    if (arg === '--json') {
      json = true;
      continue;
    }
    const m = /^--(env|region|window)(?:=(.*))?$/.exec(arg);
    if (!m) {
      errors.push(`unknown argument "${arg}"; allowed: --env, --region, --window, --json, --help`);
      continue;
    }
    let value = m[2];
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        errors.push(`--${m[1]} needs a value`);
        continue;
      }
      value = next;
      i++;
    }
    values[m[1]] = value;
  }
  let regions: readonly string[] = [];
  if (!values.env) errors.push('--env is required (dev, staging, prod or pr-<number>)');
  else {
    const r = environmentRegions(values.env);
    if ('error' in r) errors.push(`--env: ${r.error}`);
    else regions = r.regions;
  }
  if (values.region !== undefined && regions.length > 0) {
    if (!regions.includes(values.region)) errors.push(`--region "${values.region}" is not a region of env "${values.env}"; allowed: ${regions.join(', ')}`);
    else regions = [values.region];
  }
  const window = values.window ?? '30d';
  const parsedWindow = parseWindow(window);
  if ('error' in parsedWindow) errors.push(`--window: ${parsedWindow.error}`);
  if (errors.length > 0) return { errors };
  return { options: { env: values.env!, regions, window, windowSeconds: (parsedWindow as { seconds: number }).seconds, json } };
}

const CREDENTIAL_ERROR_NAMES = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'TokenProviderError',
]);

/** One line explaining a credentials problem, or undefined when the error is something else. */
export function describeCredentialError(err: unknown): string | undefined {
  const e = err as { name?: string; message?: string };
  const name = e?.name ?? '';
  const message = (e?.message ?? '').split('\n')[0];
  if (!CREDENTIAL_ERROR_NAMES.has(name) && !/could not load credentials|credential/i.test(message)) return undefined;
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return `slo-report: no AWS credentials found (${name}: ${message}). Provide them with AWS_PROFILE=<profile> (after \`aws sso login\`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary credentials); the identity needs cloudwatch:GetMetricData.`;
  }
  return `slo-report: AWS rejected the credentials (${name}: ${message}). Refresh them (for example \`aws sso login --profile <profile>\`) or choose another AWS_PROFILE; the identity needs cloudwatch:GetMetricData.`;
}

export interface CliDeps {
  readonly clientFor: (region: string) => CloudWatchLike;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly now: () => number;
}

const defaultDeps: CliDeps = {
  clientFor: (region) => new CloudWatchClient({ region }),
  stdout: (t) => process.stdout.write(t + '\n'),
  stderr: (t) => process.stderr.write(t + '\n'),
  now: () => Date.now(),
};

/** Runs the CLI; returns the exit code. */
export async function main(argv: readonly string[], deps: CliDeps = defaultDeps): Promise<number> {
  const parsed = parseArgs(argv);
  if ('help' in parsed) {
    deps.stdout(USAGE);
    return 0;
  }
  if ('errors' in parsed) {
    for (const e of parsed.errors) deps.stderr(`slo-report: ${e}`);
    deps.stderr(USAGE);
    return 2;
  }
  const o = parsed.options;
  let report: SloReport;
  try {
    report = await buildReport({ environment: o.env, regions: o.regions, window: o.window, windowSeconds: o.windowSeconds, clientFor: deps.clientFor, now: deps.now() });
  } catch (err) {
    const credentials = describeCredentialError(err);
    if (credentials) deps.stderr(credentials);
    else {
      const e = err as { name?: string; message?: string };
      deps.stderr(`slo-report: reading CloudWatch failed (${e?.name ?? 'Error'}: ${(e?.message ?? String(err)).split('\n')[0]})`);
    }
    return 1;
  }
  deps.stdout(o.json ? JSON.stringify(report, null, 2) : formatTable([report]));
  return 0;
}

if (require.main === module) {
  // The SDK's advisory about future Node.js support is noise for a one-shot audit command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`slo-report: ${(err as Error)?.message ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

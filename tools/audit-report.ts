/**
 * Writes the audit report of every environment in a synthesized cloud assembly: `<out>/<env>.md` and
 * `<out>/<env>.json` (default `cdk.out/audit/`). `npm run synth` runs it right after `cdk synth`, with the same
 * arguments, so context overrides such as `-c prod:tier=one-year` reach the capacity section too.
 *
 *   tsx tools/audit-report.ts [-o|--output ASSEMBLY_DIR] [--out REPORT_DIR] [-c key=value ...]
 *
 * Other `cdk synth` arguments (stack selectors, flags) are accepted and ignored.
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildAuditReport, renderAuditJson, renderAuditMarkdown } from '../audit/audit-report';
import { AssemblyReadError, readAssembly } from '../audit/cloud-assembly';
import { ConfigValidationError } from '../lib/config/config-error';
import { EnvironmentConfig } from '../lib/config/environment-config';
import { resolveEnvironments } from '../lib/config/resolve-environments';

interface Options {
  assemblyDir: string;
  outDir?: string;
  context: Record<string, string>;
}

/** Parses the arguments `cdk synth` understands that matter here; everything else is ignored. */
export function parseArguments(argv: readonly string[]): Options {
  const options: Options = { assemblyDir: 'cdk.out', context: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const valueOf = (flag: string) => (arg.startsWith(`${flag}=`) ? arg.slice(flag.length + 1) : argv[++i]);
    if (arg === '-c' || arg === '--context' || arg.startsWith('--context=')) {
      const pair = valueOf('--context') ?? '';
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`--context expects key=value, got "${pair}"`);
      options.context[pair.slice(0, eq)] = pair.slice(eq + 1);
    } else if (arg === '-o' || arg === '--output' || arg.startsWith('--output=')) {
      options.assemblyDir = valueOf('--output');
    } else if (arg === '--out' || arg.startsWith('--out=')) {
      options.outDir = valueOf('--out');
    }
  }
  return options;
}

/**
 * cdk.json's context, read directly: importing the app module would load aws-cdk-lib and every construct, seconds of
 * start-up this tool does not need.
 */
function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context ?? {};
}

/** The configuration of one synthesized environment, resolved with the same context as the synth. */
function configOf(env: string, context: Record<string, string>): EnvironmentConfig | undefined {
  const merged: Record<string, unknown> = { ...cdkJsonContext(), ...context, env };
  try {
    return resolveEnvironments((key) => merged[key])[0];
  } catch (error) {
    if (error instanceof ConfigValidationError) return undefined;
    throw error;
  }
}

function main(): void {
  const options = parseArguments(process.argv.slice(2));
  const outDir = options.outDir ?? path.join(options.assemblyDir, 'audit');
  const assembly = readAssembly(options.assemblyDir);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  for (const [env, stacks] of assembly) {
    const report = buildAuditReport(env, stacks, configOf(env, options.context));
    fs.writeFileSync(path.join(outDir, `${env}.json`), renderAuditJson(report));
    fs.writeFileSync(path.join(outDir, `${env}.md`), renderAuditMarkdown(report));
    written.push(`${env} (${report.statefulResources.length} stateful, ${report.acknowledgments.length} acknowledgments)`);
  }
  process.stdout.write(`audit report: ${outDir}/{${[...assembly.keys()].join(',')}}.{md,json}: ${written.join('; ')}\n`);
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    if (error instanceof AssemblyReadError || (error instanceof Error && error.message.startsWith('--'))) {
      process.stderr.write(`audit-report: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

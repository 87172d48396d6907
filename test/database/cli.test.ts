import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { main, parseCommandLine, USAGE } from '../../tools/db';
import { createTestDatabase, TestDatabase } from './pg-test-db';

// Real PostgreSQL work (CREATE DATABASE, migrations) on a shared 2-core machine: allow more than jest's 5 s default.
jest.setTimeout(120_000);

async function run(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (l) => out.push(l), (l) => err.push(l));
  return { code, out, err };
}

const EXPECTED = 'expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE';

describe('tools/db.ts', () => {
  let db: TestDatabase;
  let archive: string;
  beforeAll(async () => {
    db = await createTestDatabase('cli');
    archive = mkdtempSync(path.join(os.tmpdir(), 'ch-cli-archive-'));
  });
  afterAll(async () => {
    await db.drop();
    rmSync(archive, { recursive: true, force: true });
  });

  it('migrate applies the migrations, then reports the schema up to date', async () => {
    const first = await run(['migrate', '--url', db.url]);
    expect(first.code).toBe(0);
    expect(first.err).toEqual([]);
    expect(first.out[0]).toMatch(/^applied 0001_extensions_and_schemas\.sql \(\d+ statements\)$/);
    expect(first.out[first.out.length - 1]).toMatch(/^schema now at version \d+$/);
    const again = await run(['migrate', `--url=${db.url}`, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out[0])).toMatchObject({ applied: [] });
  });

  it('maintain runs the same maintenance into a local archive folder', async () => {
    const res = await run(['maintain', '--url', db.url, '--archive-dir', archive, '--json']);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.out[0]);
    expect(report).toMatchObject({ failed: [], archived: [] });
    expect(Object.keys(report.defaultPartitionRows)).toEqual(['connecthub.activity_default', 'connecthub.messages_default', 'connecthub.posts_default']);
  });

  it.each([
    [['migrate', '--url', 'not a url'], `error: --url "not a url" is not a valid URL: ${EXPECTED}`],
    [['migrate', '--url', 'mysql://u@h/db'], `error: --url "mysql://u@h/db" has scheme "mysql": ${EXPECTED}`],
    [['migrate', '--url', 'postgres://u:s3cret@h'], `error: --url "postgres://u:***@h" names no database: ${EXPECTED}`],
    [['maintain'], `error: --url is required: ${EXPECTED}`],
    [['migrate', '--url', 'postgres://u:s3cret@127.0.0.1:1/db'], 'error: cannot connect to PostgreSQL at postgres://u:***@127.0.0.1:1/db: connect ECONNREFUSED 127.0.0.1:1'],
  ])('%j fails with one clear line and exit code 1', async (argv, message) => {
    const res = await run(argv);
    expect(res.code).toBe(1);
    expect(res.err).toEqual([message]);
    expect(res.out).toEqual([]);
  });

  it('usage errors exit 2 and name the argument; --help prints the usage', async () => {
    expect(await run(['frobnicate'])).toEqual({ code: 2, out: [], err: ['error: unknown command "frobnicate"; allowed: migrate, maintain (see --help)'] });
    expect((await run(['migrate', '--urll', 'x'])).err[0]).toMatch(/^error: unknown option "--urll"; allowed: --url, /);
    expect((await run(['migrate', '--url'])).err).toEqual(['error: --url needs a value (see --help)']);
    expect(await run(['--help'])).toEqual({ code: 0, out: [USAGE], err: [] });
    expect(parseCommandLine(['maintain', '--archive-dir', 'a', '--url', 'u'])).toEqual({
      command: 'maintain',
      help: false,
      json: false,
      options: { '--archive-dir': 'a', '--url': 'u' },
    });
  });

  it('as a process: a bad URL prints one line on stderr and exits 1', async () => {
    const tsx = path.join(__dirname, '../../node_modules/.bin/tsx');
    const cli = path.join(__dirname, '../../tools/db.ts');
    const err = await promisify(execFile)(tsx, [cli, 'migrate', '--url', 'postgres://127.0.0.1:1/x']).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(err).toBeDefined();
    expect(err!.code).toBe(1);
    expect(err!.stdout).toBe('');
    expect(err!.stderr).toBe('error: cannot connect to PostgreSQL at postgres://127.0.0.1:1/x: connect ECONNREFUSED 127.0.0.1:1\n');
  });
});

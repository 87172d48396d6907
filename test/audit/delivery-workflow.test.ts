/**
 * Lint of the delivery workflow (actionlint is neither on npm nor in Debian here): the YAML parses, every job is
 * well-formed, the deployment order is dev -> staging -> prod, AWS access is OIDC with id-token: write only on the
 * jobs that assume a role, every action is pinned to a commit, and the pull-request jobs run when they should.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseDocument } from 'yaml';

const WORKFLOW_DIR = path.join(__dirname, '..', '..', '.github', 'workflows');
const file = path.join(WORKFLOW_DIR, 'delivery.yml');
const text = fs.readFileSync(file, 'utf8');
const doc = parseDocument(text, { uniqueKeys: true });
const workflow = doc.toJS() as any;
const jobs: Record<string, any> = workflow.jobs;
const ASSUMES_ROLE = (step: any) => typeof step.uses === 'string' && step.uses.startsWith('aws-actions/configure-aws-credentials@');
const KNOWN_JOB_KEYS = new Set(['name', 'if', 'needs', 'runs-on', 'timeout-minutes', 'environment', 'concurrency', 'permissions', 'env', 'steps', 'services', 'strategy', 'outputs', 'defaults', 'continue-on-error', 'container']);
const KNOWN_STEP_KEYS = new Set(['name', 'id', 'if', 'uses', 'run', 'with', 'env', 'shell', 'working-directory', 'timeout-minutes', 'continue-on-error']);

/** Every `uses:` of every workflow file in the folder, with where it is. */
function allUses(): { where: string; uses: string }[] {
  return fs.readdirSync(WORKFLOW_DIR).filter((f) => /\.ya?ml$/.test(f)).flatMap((f) => {
    const wf = parseDocument(fs.readFileSync(path.join(WORKFLOW_DIR, f), 'utf8')).toJS() as any;
    return Object.entries<any>(wf.jobs ?? {}).flatMap(([id, job]) => [
      ...(job.uses ? [{ where: `${f} ${id}`, uses: job.uses }] : []),
      ...(job.steps ?? []).filter((s: any) => s.uses).map((s: any, i: number) => ({ where: `${f} ${id} step ${i}`, uses: s.uses })),
    ]);
  });
}

test('the YAML parses without errors or warnings, with unique keys', () => {
  expect(doc.errors.map((e) => e.message)).toEqual([]);
  expect(doc.warnings.map((e) => e.message)).toEqual([]);
  expect(workflow.name).toBe('delivery');
});

test('triggers: pull requests (including closed, for the teardown) and pushes to main', () => {
  expect(workflow.on.pull_request.types).toEqual(expect.arrayContaining(['opened', 'synchronize', 'reopened', 'closed']));
  expect(workflow.on.push.branches).toEqual(['main']);
});

test('every job is well-formed: known keys, a runner, a timeout, steps with exactly one of run/uses, needs that exist', () => {
  const problems: string[] = [];
  for (const [id, job] of Object.entries(jobs)) {
    for (const key of Object.keys(job)) if (!KNOWN_JOB_KEYS.has(key)) problems.push(`${id}: unknown key ${key}`);
    if (typeof job['runs-on'] !== 'string') problems.push(`${id}: no runs-on`);
    if (typeof job['timeout-minutes'] !== 'number') problems.push(`${id}: no timeout-minutes`);
    for (const need of [job.needs ?? []].flat()) if (!(need in jobs)) problems.push(`${id}: needs unknown job ${need}`);
    (job.steps ?? []).forEach((step: any, i: number) => {
      for (const key of Object.keys(step)) if (!KNOWN_STEP_KEYS.has(key)) problems.push(`${id} step ${i}: unknown key ${key}`);
      if (('run' in step) === ('uses' in step)) problems.push(`${id} step ${i}: needs exactly one of run or uses`);
    });
  }
  // Expressions are closed: every ${{ has its }}.
  for (const [i, line] of text.split('\n').entries()) {
    if ((line.match(/\$\{\{/g) ?? []).length !== (line.match(/\}\}/g) ?? []).length) problems.push(`line ${i + 1}: unbalanced expression`);
  }
  expect(problems).toEqual([]);
});

test('every action is pinned to a full commit SHA with its version in a comment', () => {
  const uses = allUses();
  expect(uses.length).toBeGreaterThan(0);
  expect(uses.filter(({ uses: u }) => !/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(u))).toEqual([]);
  const usesLines = text.split('\n').filter((l) => /^\s*(- )?uses:/.test(l));
  expect(usesLines.filter((l) => !/# v\d+(\.\d+)*\s*$/.test(l))).toEqual([]);
});

test('least privilege: contents: read at the top; id-token: write exactly on the jobs that assume an AWS role', () => {
  expect(workflow.permissions).toEqual({ contents: 'read' });
  for (const [id, job] of Object.entries(jobs)) {
    const assumes = (job.steps ?? []).some(ASSUMES_ROLE);
    const permissions = job.permissions ?? workflow.permissions;
    expect({ id, idToken: permissions['id-token'] ?? 'none' }).toEqual({ id, idToken: assumes ? 'write' : 'none' });
    // Nothing but contents: read and (where needed) id-token: write.
    expect({ id, extra: Object.entries(permissions).filter(([k, v]) => !(k === 'contents' && v === 'read') && k !== 'id-token') }).toEqual({ id, extra: [] });
  }
});

test('AWS access is OIDC only: roles from variables, no access keys or secrets', () => {
  const roleSteps = Object.values(jobs).flatMap((job: any) => (job.steps ?? []).filter(ASSUMES_ROLE));
  expect(roleSteps.length).toBeGreaterThan(0);
  for (const step of roleSteps) {
    expect(step.with['role-to-assume']).toMatch(/^\$\{\{ vars[.[]/);
    expect(Object.keys(step.with).sort()).toEqual(['aws-region', 'role-session-name', 'role-to-assume']);
  }
  expect(text).not.toMatch(/aws-access-key-id|aws-secret-access-key|secrets\./);
});

test('the test job installs, tests and synthesizes with PostgreSQL and Redis services', () => {
  const test = jobs.test;
  expect(Object.keys(test.services).sort()).toEqual(['postgres', 'redis']);
  expect(test.services.postgres.image).toMatch(/^postgres:15/);
  expect(test.services.redis.image).toMatch(/^redis:7/);
  const runs = test.steps.filter((s: any) => s.run).map((s: any) => s.run.trim());
  const order = ['npm ci', 'npm test', 'npm run synth'].map((c) => runs.indexOf(c));
  expect(order.every((i) => i >= 0)).toBe(true);
  expect([...order].sort((a, b) => a - b)).toEqual(order);
  expect(test.steps.some((s: any) => s.with?.path === 'cdk.out/audit/')).toBe(true);
});

test('pull requests: diff against every long-lived environment, deploy pr-<number>, destroy it when closed', () => {
  const onOpenPr = "github.event_name == 'pull_request' && github.event.action != 'closed'";
  expect(jobs.diff.if).toContain(onOpenPr);
  expect(jobs.diff.strategy.matrix.include.map((m: any) => m.env)).toEqual(['dev', 'staging', 'prod']);
  expect(jobs.diff.steps.some((s: any) => /npx cdk diff /.test(s.run ?? ''))).toBe(true);
  expect(jobs.preview.if).toContain(onOpenPr);
  expect(jobs.preview.needs).toBe('test');
  expect(jobs.preview.steps.some((s: any) => /npx cdk deploy -c env="\$PREVIEW"/.test(s.run ?? ''))).toBe(true);
  expect(jobs.preview.steps.find((s: any) => s.env?.PREVIEW).env.PREVIEW).toBe('pr-${{ github.event.pull_request.number }}');
  expect(jobs['preview-destroy'].if).toContain("github.event.action == 'closed'");
  expect(jobs['preview-destroy'].steps.some((s: any) => /npx cdk destroy .*--force/.test(s.run ?? ''))).toBe(true);
  // Deploy and destroy of one preview never overlap.
  expect(jobs.preview.concurrency).toEqual(jobs['preview-destroy'].concurrency);
  expect(jobs.preview.concurrency['cancel-in-progress']).toBe(false);
  // Forks get no OIDC token: the AWS jobs skip them.
  for (const id of ['diff', 'preview', 'preview-destroy']) expect(jobs[id].if).toContain('github.event.pull_request.head.repo.full_name == github.repository');
});

test('main deploys dev, then staging, then prod, each in its GitHub environment, one at a time', () => {
  expect(jobs['deploy-dev'].needs).toBe('test');
  expect(jobs['deploy-staging'].needs).toBe('deploy-dev');
  expect(jobs['deploy-prod'].needs).toBe('deploy-staging');
  for (const env of ['dev', 'staging', 'prod']) {
    const job = jobs[`deploy-${env}`];
    expect(job.if).toBe("github.event_name == 'push'");
    // prod's environment carries the required reviewers (the approval); see docs/audit-and-delivery.md.
    expect(job.environment.name).toBe(env);
    expect(job.env.TARGET).toBe(env);
    expect(job.concurrency).toEqual({ group: `deploy-${env}`, 'cancel-in-progress': false });
    expect(job.steps.some((s: any) => s.run === 'npx cdk deploy --app cdk.out "$TARGET/*" --require-approval never --concurrency 4 --progress events')).toBe(true);
  }
});

test('no job interpolates pull-request text into a shell (script injection)', () => {
  const runs = Object.values(jobs).flatMap((job: any) => (job.steps ?? []).map((s: any) => s.run ?? ''));
  for (const run of runs) expect(run).not.toMatch(/\$\{\{\s*github\.event\.(pull_request\.(title|body|head\.ref)|head_commit|comment)/);
});

test('every step that pipes runs under an explicit bash shell, so a failing command before a pipe fails the step', () => {
  // GitHub's default shell is `bash -e` without pipefail; an explicit `shell: bash` (step, job or workflow default)
  // is `bash --noprofile --norc -eo pipefail {0}`.
  const explicitBash = (shell: unknown) => shell === 'bash';
  const problems: string[] = [];
  for (const [id, job] of Object.entries(jobs)) {
    (job.steps ?? []).forEach((step: any, i: number) => {
      if (typeof step.run !== 'string' || !/(^|[^|])\|([^|]|$)/.test(step.run)) return;
      const shell = step.shell ?? job.defaults?.run?.shell ?? workflow.defaults?.run?.shell;
      if (!explicitBash(shell)) problems.push(`${id} step ${i} (${step.name ?? step.run.split('\n')[0]}): pipes without pipefail`);
    });
  }
  expect(problems).toEqual([]);
  // The check above is not vacuous: the diff step pipes into tee.
  expect(jobs.diff?.steps?.some((s: any) => typeof s.run === 'string' && s.run.includes('| tee'))).toBe(true);
});

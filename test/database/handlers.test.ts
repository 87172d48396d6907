import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { readdirSync } from 'node:fs';
import * as os from 'node:os';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { S3ArchiveSink } from '../../database/archive-sink';
import { clientConfigFromEnvironment, parseDatabaseEnvironment } from '../../database/connection';
import { hashMigrationsDirectory } from '../../database/migrations-hash';
import { applyMigrations, DEFAULT_MIGRATIONS_DIR, loadMigrations } from '../../database/migrator';
import { runMaintenance } from '../../database/partition-maintenance';
import { handler as maintainHandler, archivalSettingsFromEnvironment, archiveSinkFromEnvironment } from '../../lambdas/db-maintain/index';
import { handler as migrateHandler, PHYSICAL_RESOURCE_ID } from '../../lambdas/db-migrate/index';
import { createTestDatabase, TestDatabase } from './pg-test-db';

// Real PostgreSQL work (CREATE DATABASE, migrations) on a shared 2-core machine: allow more than jest's 5 s default.
jest.setTimeout(120_000);

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:connecthub-db-master-AbCdEf';
const KMS_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const LATEST = String(Math.max(...loadMigrations().map((m) => m.version)));

const secrets = mockClient(SecretsManagerClient);
const s3 = mockClient(S3Client);

async function bodyBytes(body: unknown): Promise<Buffer> {
  if (typeof body === 'string') return Buffer.from(body);
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body as Readable) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** An in-memory bucket behind the S3 mock. */
function fakeBucket(): Map<string, Buffer> {
  const objects = new Map<string, Buffer>();
  s3.on(PutObjectCommand).callsFake(async (input) => {
    objects.set(input.Key, await bodyBytes(input.Body));
    return {};
  });
  s3.on(GetObjectCommand).callsFake(async (input) => {
    const data = objects.get(input.Key);
    if (!data) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    return { Body: Readable.from([data]) };
  });
  return objects;
}

function setEnv(values: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

const ENV_KEYS = ['DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_SECRET_ARN', 'DB_SSL', 'ARCHIVE_BUCKET', 'ARCHIVE_PREFIX', 'ARCHIVE_KMS_KEY_ARN'];

describe('database Lambda handlers', () => {
  let db: TestDatabase;
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));

  beforeAll(async () => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    db = await createTestDatabase('lambda');
  });
  afterAll(async () => {
    setEnv(saved);
    jest.restoreAllMocks();
    await db.drop();
  });
  beforeEach(() => {
    secrets.reset();
    s3.reset();
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: JSON.stringify({ username: 'postgres', password: 'unused-with-trust-auth', engine: 'postgres' }) });
    setEnv({
      DB_HOST: '127.0.0.1',
      DB_PORT: '5432',
      DB_NAME: db.name,
      DB_SECRET_ARN: SECRET_ARN,
      DB_SSL: 'disable',
      ARCHIVE_BUCKET: 'connecthub-archive-test',
      ARCHIVE_PREFIX: 'partitions/',
      ARCHIVE_KMS_KEY_ARN: KMS_KEY_ARN,
    });
  });

  describe('db-migrate (custom resource onEvent)', () => {
    it('Create applies the migrations with credentials from Secrets Manager; Update is then a no-op', async () => {
      const created = await migrateHandler({ RequestType: 'Create', ResourceProperties: {} });
      expect(created.PhysicalResourceId).toBe(PHYSICAL_RESOURCE_ID);
      expect(created.Data?.SchemaVersion).toBe(LATEST);
      expect(created.Data?.Applied.split(',')).toHaveLength(Number(LATEST));
      expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
      expect(secrets.commandCalls(GetSecretValueCommand)[0].args[0].input).toEqual({ SecretId: SECRET_ARN });

      const updated = await migrateHandler({ RequestType: 'Update', PhysicalResourceId: PHYSICAL_RESOURCE_ID });
      expect(updated).toEqual({ PhysicalResourceId: PHYSICAL_RESOURCE_ID, Data: { SchemaVersion: LATEST, Applied: '' } });
    });

    it('Delete keeps the schema and does not touch the database', async () => {
      setEnv({ DB_HOST: undefined, DB_SECRET_ARN: undefined });
      const res = await migrateHandler({ RequestType: 'Delete', PhysicalResourceId: PHYSICAL_RESOURCE_ID });
      expect(res).toEqual({ PhysicalResourceId: PHYSICAL_RESOURCE_ID });
      expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
      const still = await db.pool.query(`SELECT count(*)::int AS n FROM connecthub.schema_migrations`);
      expect(still.rows[0].n).toBe(Number(LATEST));
    });

    it('a failing migration fails the event with the file and statement, and the schema stays where it was', async () => {
      const other = await createTestDatabase('lambdafail');
      try {
        // A stray table makes migration 0002 fail on its first statement.
        await other.pool.query('CREATE SCHEMA connecthub; CREATE TABLE connecthub.users (id int)');
        setEnv({ DB_NAME: other.name });
        await expect(migrateHandler({ RequestType: 'Create' })).rejects.toThrow(
          /^migration 0002_users_and_follows\.sql failed at statement 1 \(line 2\): relation "users" already exists \[SQLSTATE 42P07\] — statement: CREATE TABLE connecthub\.users \(.* — schema left at version 1$/,
        );
        const versions = await other.pool.query(`SELECT array_agg(version ORDER BY version) AS v FROM connecthub.schema_migrations`);
        expect(versions.rows[0].v).toEqual([1]);
      } finally {
        await other.drop();
      }
    });

    it('an Update carrying another MigrationsHash (a rollback: old properties, new code) succeeds without migrating', async () => {
      const other = await createTestDatabase('lambdaroll');
      try {
        // The schema one migration behind the bundle, as after a failed deploy whose new migration rolled back.
        const all = loadMigrations();
        await applyMigrations(other.pool, { migrations: all.slice(0, -1) });
        setEnv({ DB_NAME: other.name });
        const previous = 'ab'.repeat(32);
        const rolledBack = await migrateHandler({
          RequestType: 'Update',
          PhysicalResourceId: PHYSICAL_RESOURCE_ID,
          ResourceProperties: { MigrationsHash: previous },
        });
        const behind = String(all[all.length - 2].version);
        expect(rolledBack).toEqual({ PhysicalResourceId: PHYSICAL_RESOURCE_ID, Data: { SchemaVersion: behind, Applied: '' } });
        const versions = await other.pool.query(`SELECT max(version)::text AS v, count(*)::int AS n FROM connecthub.schema_migrations`);
        expect(versions.rows[0]).toEqual({ v: behind, n: all.length - 1 });
        expect((console.log as jest.Mock).mock.calls.flat().join('\n')).toMatch(/asks for migrations abababababab… but this function carries [0-9a-f]{12}…: a CloudFormation rollback.*nothing is applied, the schema stays at version/);

        // The bundle's own hash (every forward deploy) migrates.
        const forward = await migrateHandler({
          RequestType: 'Update',
          PhysicalResourceId: PHYSICAL_RESOURCE_ID,
          ResourceProperties: { MigrationsHash: hashMigrationsDirectory(DEFAULT_MIGRATIONS_DIR) },
        });
        expect(forward.Data).toEqual({ SchemaVersion: LATEST, Applied: all[all.length - 1].file });
      } finally {
        await other.drop();
      }
    });

    it('rejects a bad environment naming every variable', async () => {
      setEnv({ DB_HOST: '', DB_PORT: 'abc', DB_SECRET_ARN: 'my-secret', DB_SSL: 'prefer' });
      await expect(migrateHandler({ RequestType: 'Create' })).rejects.toThrow(
        'invalid database environment: DB_HOST is missing: set it to the cluster or proxy endpoint; DB_PORT "abc" is not allowed: expected a port number 1-65535; ' +
          'DB_SECRET_ARN "my-secret" is not allowed: expected a Secrets Manager secret ARN; DB_SSL "prefer" is not allowed: expected "require" (TLS with certificate verification) or "disable"',
      );
    });

    it('reports an unreachable database in one line', async () => {
      setEnv({ DB_PORT: '1' });
      await expect(migrateHandler({ RequestType: 'Create' })).rejects.toThrow(`cannot connect to PostgreSQL at 127.0.0.1:1/${db.name}: connect ECONNREFUSED 127.0.0.1:1`);
    });

    it('uses TLS with certificate verification by default and rejects a malformed secret', async () => {
      setEnv({ DB_SSL: undefined });
      const config = await clientConfigFromEnvironment(process.env);
      expect(config).toMatchObject({ host: '127.0.0.1', port: 5432, database: db.name, user: 'postgres', ssl: { rejectUnauthorized: true } });
      expect(parseDatabaseEnvironment({ ...process.env, DB_SSL: 'require' }).ssl).toBe(true);
      secrets.reset();
      secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"username":"admin"}' });
      await expect(clientConfigFromEnvironment(process.env)).rejects.toThrow(`secret ${SECRET_ARN} lacks a non-empty "username" and "password"`);
    });
  });

  describe('db-maintain (scheduled)', () => {
    const year = new Date().getUTCFullYear() - 3;
    const table = `posts_p${year}_01`;

    async function seedExpired(rows: number): Promise<void> {
      await db.pool.query(`SELECT partman.create_partition_time(p_parent_table := 'connecthub.posts', p_partition_times := ARRAY[$1::timestamptz])`, [
        `${year}-01-01T00:00:00Z`,
      ]);
      await db.pool.query(
        `INSERT INTO connecthub.posts (author_id, body, created_at) SELECT gen_random_uuid(), 'old ' || g, $1::timestamptz + g * interval '1 hour' FROM generate_series(1, $2::int) g`,
        [`${year}-01-01T00:00:00Z`, rows],
      );
    }

    it('a failed S3 upload keeps the partition and fails the invocation naming it', async () => {
      await seedExpired(300);
      s3.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
      await expect(maintainHandler()).rejects.toThrow(`failures: connecthub_archive.${table}: Access Denied`);
      const kept = await db.pool.query(`SELECT count(*)::int AS n FROM connecthub_archive.${table}`);
      expect(kept.rows[0].n).toBe(300);
    });

    it('exports the detached partition to S3 with SSE-KMS, verifies it by reading it back, then drops it', async () => {
      const objects = fakeBucket();
      const report = await maintainHandler();
      expect(report.failed).toEqual([]);
      expect(report.archived).toEqual([
        expect.objectContaining({ table: `connecthub_archive.${table}`, rows: 300, slices: 1, location: `s3://connecthub-archive-test/partitions/connecthub/posts/${table}.manifest.json` }),
      ]);
      const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
      expect(puts.map((p) => p.Key)).toEqual([`partitions/connecthub/posts/${table}/part-000001.jsonl.gz`, `partitions/connecthub/posts/${table}.manifest.json`]);
      for (const p of puts) {
        expect(p).toMatchObject({ Bucket: 'connecthub-archive-test', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS_KEY_ARN, BucketKeyEnabled: true });
      }
      // The slice and, before the drop commits, the manifest are read back.
      expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
        `partitions/connecthub/posts/${table}/part-000001.jsonl.gz`, `partitions/connecthub/posts/${table}.manifest.json`,
      ]);
      const manifestBytes = objects.get(`partitions/connecthub/posts/${table}.manifest.json`)!;
      expect(createHash('sha256').update(manifestBytes).digest('hex')).toBe(report.archived[0].manifestSha256);
      const manifest = JSON.parse(manifestBytes.toString('utf8'));
      expect(manifest).toMatchObject({ rows: 300, slices: [expect.objectContaining({ rows: 300, key: `connecthub/posts/${table}/part-000001.jsonl.gz` })] });
      const gone = await db.pool.query(`SELECT to_regclass('connecthub_archive.${table}') AS t`);
      expect(gone.rows[0].t).toBeNull();
    });

    it('streams a large partition straight into a multipart upload (no local file), aborting it when a part fails', async () => {
      const big = `posts_p${year - 1}_01`;
      await db.pool.query(`SELECT partman.create_partition_time(p_parent_table := 'connecthub.posts', p_partition_times := ARRAY[$1::timestamptz])`, [
        `${year - 1}-01-01T00:00:00Z`,
      ]);
      // Random hex bodies compress about 2:1, so 40,000 rows make a gzip'd export of more than one 5 MiB part.
      await db.pool.query(
        `INSERT INTO connecthub.posts (author_id, body, created_at)
         SELECT gen_random_uuid(), ${Array(8).fill('md5(random()::text)').join(' || ')}, $1::timestamptz + g * interval '1 minute'
           FROM generate_series(1, 40000) g`,
        [`${year - 1}-01-01T00:00:00Z`],
      );
      const sink = new S3ArchiveSink({ client: new S3Client({}), bucket: 'connecthub-archive-test', prefix: 'partitions/', kmsKeyArn: KMS_KEY_ARN, partSizeBytes: 5 * 1024 * 1024 });
      const staged = () => readdirSync(os.tmpdir()).filter((f) => f.startsWith('connecthub-archive-'));
      const stagedBefore = staged();

      // 1. The second part fails: the upload is aborted, the partition kept, and the S3 error (not a closed stream) reported.
      s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-fail' });
      s3.on(UploadPartCommand, { PartNumber: 1 }).resolves({ ETag: '"p1"' });
      s3.on(UploadPartCommand, { PartNumber: 2 }).rejects(Object.assign(new Error('InternalError: We encountered an internal error'), { name: 'InternalError' }));
      s3.on(AbortMultipartUploadCommand).resolves({});
      const failed = await runMaintenance(db.pool, { sink, sliceRows: 100_000 });
      expect(failed.archived).toEqual([]);
      expect(failed.failed).toEqual([{ table: `connecthub_archive.${big}`, error: 'InternalError: We encountered an internal error' }]);
      expect(s3.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input.UploadId)).toEqual(['up-fail']);
      expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
      const kept = await db.pool.query(`SELECT count(*)::int AS n FROM connecthub_archive.${big}`);
      expect(kept.rows[0].n).toBe(40000);

      // 2. A healthy bucket: parts streamed, completed, read back (size, both SHA-256s, rows) and only then dropped.
      s3.reset();
      const objects = fakeBucket();
      const parts = new Map<number, Buffer>();
      s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-ok' });
      s3.on(UploadPartCommand).callsFake(async (input) => {
        parts.set(input.PartNumber, await bodyBytes(input.Body));
        return { ETag: `"p${input.PartNumber}"` };
      });
      s3.on(CompleteMultipartUploadCommand).callsFake(async (input) => {
        objects.set(input.Key, Buffer.concat(input.MultipartUpload.Parts.map((p: { PartNumber: number }) => parts.get(p.PartNumber)!)));
        return {};
      });
      const report = await runMaintenance(db.pool, { sink, sliceRows: 100_000 });
      expect(report.failed).toEqual([]);
      expect(report.archived).toEqual([expect.objectContaining({ table: `connecthub_archive.${big}`, rows: 40000, slices: 1 })]);
      expect(report.archived[0].bytes).toBeGreaterThan(5 * 1024 * 1024);
      expect(s3.commandCalls(UploadPartCommand).length).toBeGreaterThanOrEqual(2);
      const object = objects.get(`partitions/connecthub/posts/${big}/part-000001.jsonl.gz`)!;
      expect(object.length).toBe(report.archived[0].bytes);
      const manifest = JSON.parse(objects.get(`partitions/connecthub/posts/${big}.manifest.json`)!.toString('utf8'));
      expect(createHash('sha256').update(object).digest('hex')).toBe(manifest.slices[0].compressedSha256);
      const lines = gunzipSync(object).toString('utf8').split('\n');
      expect(lines.pop()).toBe('');
      expect(lines).toHaveLength(40000);
      expect(manifest).toMatchObject({ rows: 40000, compressedBytes: object.length });
      const gone = await db.pool.query(`SELECT to_regclass('connecthub_archive.${big}') AS t`);
      expect(gone.rows[0].t).toBeNull();
      expect(staged()).toEqual(stagedBefore);
    });

    it('takes its time budget from the invocation: out of time it stops between slices and succeeds; the next invocation resumes', async () => {
      const month = `posts_p${year - 2}_01`;
      await db.pool.query(`SELECT partman.create_partition_time(p_parent_table := 'connecthub.posts', p_partition_times := ARRAY[$1::timestamptz])`, [
        `${year - 2}-01-01T00:00:00Z`,
      ]);
      await db.pool.query(
        `INSERT INTO connecthub.posts (author_id, body, created_at) SELECT gen_random_uuid(), 'old ' || g, $1::timestamptz + g * interval '1 minute' FROM generate_series(1, 5000) g`,
        [`${year - 2}-01-01T00:00:00Z`],
      );
      const objects = fakeBucket();
      setEnv({ ARCHIVE_SLICE_ROWS: '1000', ARCHIVE_SAFETY_MARGIN_SECONDS: '60' });
      try {
        // 61 s left: room for the first slice only (the margin plus the longest slice so far).
        let remaining = 61_000;
        const paused = await maintainHandler({}, { getRemainingTimeInMillis: () => { const r = remaining; remaining = 0; return r; } });
        expect(paused.failed).toEqual([]);
        expect(paused.outOfTime).toBe(true);
        expect(paused.inProgress).toEqual([expect.objectContaining({ table: `connecthub_archive.${month}`, slicesDone: 1 })]);
        expect([...objects.keys()]).toEqual([`partitions/connecthub/posts/${month}/part-000001.jsonl.gz`]);

        const done = await maintainHandler({}, { getRemainingTimeInMillis: () => 900_000 });
        expect(done.archived).toEqual([expect.objectContaining({ table: `connecthub_archive.${month}`, rows: 5000 })]);
        expect(done.archived[0].slices).toBeGreaterThan(1);
        expect(done.slicesStored).toBe(done.archived[0].slices - 1);
      } finally {
        setEnv({ ARCHIVE_SLICE_ROWS: undefined, ARCHIVE_SAFETY_MARGIN_SECONDS: undefined });
      }
    });

    it('rejects bad slice and margin settings naming each variable', () => {
      expect(() => archivalSettingsFromEnvironment({ ARCHIVE_SLICE_ROWS: '10', ARCHIVE_SAFETY_MARGIN_SECONDS: '2m' })).toThrow(
        'invalid archival settings: ARCHIVE_SLICE_ROWS "10" is not allowed: expected a whole number from 1000 to 100000000; ' +
          'ARCHIVE_SAFETY_MARGIN_SECONDS "2m" is not allowed: expected a whole number from 10 to 840',
      );
      expect(archivalSettingsFromEnvironment({ ARCHIVE_SLICE_ROWS: '500000', ARCHIVE_SAFETY_MARGIN_SECONDS: '90' })).toEqual({ sliceRows: 500000, safetyMarginMs: 90_000 });
      expect(archivalSettingsFromEnvironment({})).toEqual({ sliceRows: undefined, safetyMarginMs: undefined });
    });

    it('requires the archive bucket and a well-formed KMS key ARN', () => {
      expect(() => archiveSinkFromEnvironment({ ARCHIVE_BUCKET: '' })).toThrow('ARCHIVE_BUCKET is missing: set it to the archive bucket name');
      expect(() => archiveSinkFromEnvironment({ ARCHIVE_BUCKET: 'b-ok', ARCHIVE_KMS_KEY_ARN: 'alias/x' })).toThrow(
        'ARCHIVE_KMS_KEY_ARN "alias/x" is not allowed: expected a KMS key or alias ARN',
      );
      expect(archiveSinkFromEnvironment({ ARCHIVE_BUCKET: 'b-ok', ARCHIVE_PREFIX: 'p' }).locationOf('a/b')).toBe('s3://b-ok/p/a/b');
    });
  });
});

describe('S3ArchiveSink', () => {
  beforeEach(() => s3.reset());

  /** `total` bytes of `fill`, in chunks of 1 MiB, as a producer would stream them. */
  function streamOf(total: number, fill: number): Readable {
    const chunk = 1024 * 1024;
    return Readable.from((function* () {
      for (let sent = 0; sent < total; sent += chunk) yield Buffer.alloc(Math.min(chunk, total - sent), fill);
    })());
  }

  it('streams a long body in parts (one part buffered at a time) and completes the upload', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    s3.on(UploadPartCommand).callsFake(async (input) => ({ ETag: `"etag-${input.PartNumber}"` }));
    s3.on(CompleteMultipartUploadCommand).resolves({});
    const sink = new S3ArchiveSink({ client: new S3Client({}), bucket: 'connecthub-archive-test', prefix: 'x', kmsKeyArn: KMS_KEY_ARN, partSizeBytes: 5 * 1024 * 1024 });
    const stored = await sink.putStream('connecthub/posts/big.jsonl.gz', streamOf(11 * 1024 * 1024, 7), 'application/gzip');
    expect(stored).toEqual({ bytes: 11 * 1024 * 1024 });
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0].args[0].input).toMatchObject({ Key: 'x/connecthub/posts/big.jsonl.gz', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS_KEY_ARN });
    const parts = s3.commandCalls(UploadPartCommand).map((c) => [c.args[0].input.PartNumber, (c.args[0].input.Body as Buffer).length, c.args[0].input.ContentLength]);
    expect(parts).toEqual([[1, 5242880, 5242880], [2, 5242880, 5242880], [3, 1048576, 1048576]]);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)[0].args[0].input.MultipartUpload).toEqual({
      Parts: [{ ETag: '"etag-1"', PartNumber: 1 }, { ETag: '"etag-2"', PartNumber: 2 }, { ETag: '"etag-3"', PartNumber: 3 }],
    });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('stores a body shorter than one part with a single PutObject', async () => {
    s3.on(PutObjectCommand).resolves({});
    const sink = new S3ArchiveSink({ client: new S3Client({}), bucket: 'connecthub-archive-test', kmsKeyArn: KMS_KEY_ARN, partSizeBytes: 5 * 1024 * 1024 });
    expect(await sink.putStream('small.gz', streamOf(3000, 1), 'application/gzip')).toEqual({ bytes: 3000 });
    expect(s3.commandCalls(PutObjectCommand)[0].args[0].input).toMatchObject({ Key: 'small.gz', ContentLength: 3000, ServerSideEncryption: 'aws:kms' });
    expect(s3.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
  });

  it('aborts a multipart upload that fails and stops reading the body', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-2' });
    s3.on(UploadPartCommand).rejects(new Error('SlowDown'));
    s3.on(AbortMultipartUploadCommand).resolves({});
    const sink = new S3ArchiveSink({ client: new S3Client({}), bucket: 'connecthub-archive-test', partSizeBytes: 5 * 1024 * 1024 });
    const body = streamOf(12 * 1024 * 1024, 1);
    await expect(sink.putStream('k.gz', body, 'application/gzip')).rejects.toThrow('SlowDown');
    expect(s3.commandCalls(AbortMultipartUploadCommand)[0].args[0].input).toEqual({ Bucket: 'connecthub-archive-test', Key: 'k.gz', UploadId: 'up-2' });
    expect(s3.commandCalls(UploadPartCommand)).toHaveLength(1);
    expect(body.destroyed).toBe(true);
  });

  it('rejects bad settings and keys, naming them', () => {
    expect(() => new S3ArchiveSink({ client: new S3Client({}), bucket: 'Bad_Bucket', partSizeBytes: 1000 })).toThrow(
      'invalid S3 archive settings: bucket "Bad_Bucket" is not a valid S3 bucket name (3-63 lower-case letters, digits, dots, hyphens); partSizeBytes 1000 is not allowed: must be an integer of at least 5242880 (5 MiB)',
    );
    const sink = new S3ArchiveSink({ client: new S3Client({}), bucket: 'ok-bucket' });
    expect(() => sink.locationOf('../etc/passwd')).toThrow('archive key "../etc/passwd" is not allowed');
  });
});

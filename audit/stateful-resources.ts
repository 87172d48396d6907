/**
 * Stateful resources: the CloudFormation types that hold data or identity, which an update must never delete or
 * replace, with how each one is encrypted and backed up. Shared by the audit report, the stateful-resource guard
 * and the environment-policy tests, so all three agree on what "stateful" means.
 */
import { AssemblyStack, constructPath, sortedResources, Template, TemplateResource } from './cloud-assembly';
import { renderValue } from './render-value';

/**
 * The stateful types: the data stores of this project (Aurora, ElastiCache, MSK, S3, KMS, Secrets Manager, Cognito,
 * log groups, queues) plus the other AWS data stores cfn-lint's rule I3011 names, so that a stack added later is
 * covered without touching this list.
 */
export const STATEFUL_TYPES: readonly string[] = [
  'AWS::Backup::BackupVault',
  'AWS::Cognito::UserPool',
  'AWS::DocDB::DBCluster',
  'AWS::DocDB::DBInstance',
  'AWS::DynamoDB::GlobalTable',
  'AWS::DynamoDB::Table',
  'AWS::EC2::Volume',
  'AWS::ECR::Repository',
  'AWS::EFS::FileSystem',
  'AWS::ElastiCache::CacheCluster',
  'AWS::ElastiCache::ReplicationGroup',
  'AWS::ElastiCache::ServerlessCache',
  'AWS::Elasticsearch::Domain',
  'AWS::FSx::FileSystem',
  'AWS::KMS::Key',
  'AWS::Kinesis::Stream',
  'AWS::Logs::LogGroup',
  'AWS::MSK::Cluster',
  'AWS::MSK::ServerlessCluster',
  'AWS::Neptune::DBCluster',
  'AWS::Neptune::DBInstance',
  'AWS::OpenSearchService::Domain',
  'AWS::RDS::DBCluster',
  'AWS::RDS::DBInstance',
  'AWS::RDS::GlobalCluster',
  'AWS::Redshift::Cluster',
  'AWS::S3::Bucket',
  'AWS::SQS::Queue',
  'AWS::SecretsManager::Secret',
];

const STATEFUL = new Set(STATEFUL_TYPES);

/** True for a stateful CloudFormation type. */
export function isStatefulType(type: string): boolean {
  return STATEFUL.has(type);
}

/** One stateful resource with its policies and data-protection settings, as the report shows it. */
export interface StatefulResource {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly path: string;
  /** `DeletionPolicy`, `Delete` when absent (CloudFormation's default for these types, except RDS without one). */
  readonly deletionPolicy: string;
  /** `UpdateReplacePolicy`, `Delete` when absent. */
  readonly updateReplacePolicy: string;
  /** Whether the policies were written explicitly in the template. */
  readonly policiesExplicit: boolean;
  /** Deletion protection as configured (`true`/`false`), or `n/a` for types without one. */
  readonly deletionProtection: string;
  /** How data at rest is encrypted. */
  readonly encryption: string;
  /** Backups, snapshots, versioning or retention. */
  readonly backup: string;
  /** What empties or keeps the data when the stack is deleted (S3 auto-delete, key pending window). */
  readonly onDelete: string;
}

function refTarget(value: unknown): string | undefined {
  if (value && typeof value === 'object' && typeof (value as any).Ref === 'string') return (value as any).Ref;
  return undefined;
}

/** Logical ids of buckets that a `Custom::S3AutoDeleteObjects` resource empties on delete. */
export function autoDeletedBuckets(template: Template): Set<string> {
  const ids = new Set<string>();
  for (const [, r] of sortedResources(template)) {
    if (r.Type !== 'Custom::S3AutoDeleteObjects') continue;
    const target = refTarget(r.Properties?.BucketName);
    if (target) ids.add(target);
  }
  return ids;
}

/** Logical ids of secrets with a rotation schedule (directly, or through a SecretTargetAttachment). */
function rotatedSecrets(template: Template): Set<string> {
  const resources = template.Resources ?? {};
  const ids = new Set<string>();
  for (const [, r] of sortedResources(template)) {
    if (r.Type !== 'AWS::SecretsManager::RotationSchedule') continue;
    let target = refTarget(r.Properties?.SecretId);
    if (target && resources[target]?.Type === 'AWS::SecretsManager::SecretTargetAttachment') {
      target = refTarget(resources[target].Properties?.SecretId);
    }
    if (target) ids.add(target);
  }
  return ids;
}

const yesNo = (value: unknown, yes: string, no: string) => (value === true || value === 'true' ? yes : no);
const kms = (key: unknown) => (key === undefined ? 'AWS owned key' : `KMS ${renderValue(key)}`);

/** Encryption, backup and deletion-protection text for one resource; generic for types without a rule. */
function protectionOf(r: TemplateResource, ctx: { autoDelete: Set<string>; rotated: Set<string>; logicalId: string }):
  Pick<StatefulResource, 'deletionProtection' | 'encryption' | 'backup' | 'onDelete'> {
  const p = r.Properties ?? {};
  const na = 'n/a';
  switch (r.Type) {
    case 'AWS::RDS::DBCluster':
      return {
        deletionProtection: String(p.DeletionProtection === true),
        encryption: yesNo(p.StorageEncrypted, `storage encrypted, ${kms(p.KmsKeyId)}`, 'NOT encrypted'),
        backup: `automated backups ${p.BackupRetentionPeriod ?? 1} day(s)${p.SnapshotIdentifier ? `, restored from ${renderValue(p.SnapshotIdentifier)}` : ''}`,
        onDelete: r.DeletionPolicy === 'Snapshot' ? 'final snapshot' : na,
      };
    case 'AWS::RDS::DBInstance':
      return {
        deletionProtection: String(p.DeletionProtection === true),
        encryption: p.DBClusterIdentifier ? 'cluster storage (see DBCluster)' : yesNo(p.StorageEncrypted, `storage encrypted, ${kms(p.KmsKeyId)}`, 'NOT encrypted'),
        backup: p.DBClusterIdentifier ? `cluster backups (${renderValue(p.DBClusterIdentifier)})` : `automated backups ${p.BackupRetentionPeriod ?? 1} day(s)`,
        onDelete: r.DeletionPolicy === 'Snapshot' ? 'final snapshot' : na,
      };
    case 'AWS::RDS::GlobalCluster':
      return {
        deletionProtection: String(p.DeletionProtection === true),
        encryption: yesNo(p.StorageEncrypted, 'storage encrypted (each regional cluster its own KMS key)', 'NOT encrypted'),
        backup: 'backups of the member clusters',
        onDelete: na,
      };
    case 'AWS::ElastiCache::ReplicationGroup':
    case 'AWS::ElastiCache::CacheCluster':
      return {
        deletionProtection: na,
        encryption: `${yesNo(p.AtRestEncryptionEnabled, `at rest (${kms(p.KmsKeyId)})`, 'NOT at rest')}, ${yesNo(p.TransitEncryptionEnabled, 'in transit (TLS)', 'NOT in transit')}`,
        backup: `snapshots kept ${p.SnapshotRetentionLimit ?? 0} day(s)`,
        onDelete: r.DeletionPolicy === 'Snapshot' ? 'final snapshot' : na,
      };
    case 'AWS::MSK::Cluster': {
      const info = p.EncryptionInfo ?? {};
      const transit = info.EncryptionInTransit?.ClientBroker ?? 'TLS';
      return {
        deletionProtection: na,
        encryption: `at rest ${kms(info.EncryptionAtRest?.DataVolumeKMSKeyId)}, client-broker ${transit}, in-cluster ${info.EncryptionInTransit?.InCluster === false ? 'plaintext' : 'TLS'}`,
        backup: 'replicated (Kafka replication factor); no snapshots in MSK',
        onDelete: na,
      };
    }
    case 'AWS::MSK::ServerlessCluster':
      return { deletionProtection: na, encryption: 'at rest AWS owned key, TLS in transit (MSK Serverless)', backup: 'managed by MSK Serverless', onDelete: na };
    case 'AWS::S3::Bucket': {
      const sse = p.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault;
      return {
        deletionProtection: na,
        encryption: sse ? `${sse.SSEAlgorithm}${sse.KMSMasterKeyID ? ` ${renderValue(sse.KMSMasterKeyID)}` : ''}` : 'SSE-S3 (S3 default)',
        backup: `versioning ${p.VersioningConfiguration?.Status ?? 'off'}${p.ReplicationConfiguration ? ', replicated' : ''}`,
        onDelete: ctx.autoDelete.has(ctx.logicalId) ? 'objects auto-deleted (Custom::S3AutoDeleteObjects)' : 'objects kept',
      };
    }
    case 'AWS::KMS::Key':
      return {
        deletionProtection: na,
        encryption: `${p.KeySpec ?? 'SYMMETRIC_DEFAULT'} key, rotation ${p.EnableKeyRotation === true ? 'on' : 'off'}`,
        backup: 'n/a (key material managed by KMS)',
        onDelete: `pending deletion ${p.PendingWindowInDays ?? 30} days`,
      };
    case 'AWS::Logs::LogGroup':
      return {
        deletionProtection: na,
        encryption: p.KmsKeyId === undefined ? 'CloudWatch Logs default encryption' : kms(p.KmsKeyId),
        backup: `retention ${p.RetentionInDays ?? 'never expires'}${p.RetentionInDays ? ' days' : ''}`,
        onDelete: na,
      };
    case 'AWS::SecretsManager::Secret':
      return {
        deletionProtection: na,
        encryption: p.KmsKeyId === undefined ? 'aws/secretsmanager key' : kms(p.KmsKeyId),
        backup: `${ctx.rotated.has(ctx.logicalId) ? 'rotated' : 'not rotated'}${p.ReplicaRegions ? ', replicated' : ''}`,
        onDelete: 'recovery window (Secrets Manager default 30 days)',
      };
    case 'AWS::Cognito::UserPool':
      return {
        deletionProtection: String(p.DeletionProtection === 'ACTIVE'),
        encryption: 'AWS managed (Cognito)',
        backup: 'none (Cognito has no export or snapshot)',
        onDelete: na,
      };
    case 'AWS::SQS::Queue':
      return {
        deletionProtection: na,
        encryption: p.KmsMasterKeyId !== undefined ? kms(p.KmsMasterKeyId) : p.SqsManagedSseEnabled === false ? 'NOT encrypted' : 'SSE-SQS',
        backup: `messages kept ${p.MessageRetentionPeriod ?? 345600} s`,
        onDelete: na,
      };
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable':
      return {
        deletionProtection: String(p.DeletionProtectionEnabled === true),
        encryption: p.SSESpecification?.SSEEnabled ? `KMS ${renderValue(p.SSESpecification.KMSMasterKeyId ?? 'aws/dynamodb')}` : 'AWS owned key',
        backup: `point-in-time recovery ${p.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled ? 'on' : 'off'}`,
        onDelete: na,
      };
    default: {
      const keys = Object.keys(p).filter((k) => /encrypt|kms/i.test(k)).sort();
      const backups = Object.keys(p).filter((k) => /backup|snapshot|retention|version/i.test(k)).sort();
      return {
        deletionProtection: 'DeletionProtection' in p || 'DeletionProtectionEnabled' in p ? renderValue(p.DeletionProtection ?? p.DeletionProtectionEnabled) : na,
        encryption: keys.length ? keys.map((k) => `${k}=${renderValue(p[k])}`).join('; ') : 'not configured in the template',
        backup: backups.length ? backups.map((k) => `${k}=${renderValue(p[k])}`).join('; ') : 'not configured in the template',
        onDelete: na,
      };
    }
  }
}

/** Every stateful resource of the given stacks, sorted by stack then logical id. */
export function statefulResources(stacks: readonly AssemblyStack[]): StatefulResource[] {
  const found: StatefulResource[] = [];
  for (const stack of stacks) {
    const autoDelete = autoDeletedBuckets(stack.template);
    const rotated = rotatedSecrets(stack.template);
    for (const [logicalId, r] of sortedResources(stack.template)) {
      if (!isStatefulType(r.Type)) continue;
      found.push({
        stack: stack.stackName,
        logicalId,
        type: r.Type,
        path: constructPath(stack, logicalId, r),
        deletionPolicy: r.DeletionPolicy ?? 'Delete',
        updateReplacePolicy: r.UpdateReplacePolicy ?? 'Delete',
        policiesExplicit: r.DeletionPolicy !== undefined && r.UpdateReplacePolicy !== undefined,
        ...protectionOf(r, { autoDelete, rotated, logicalId }),
      });
    }
  }
  return found.sort((a, b) => compare(a.stack, b.stack) || compare(a.logicalId, b.logicalId));
}

/** Plain code-unit comparison: the same order on every machine and locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';

const done = new WeakSet<kms.IKey>();

/**
 * Lets CloudWatch Logs of the key's region and account use a key for log groups (a KMS-encrypted log group cannot
 * be created otherwise). Added once per key; a no-op for imported keys, whose policy is not ours to change.
 */
export function allowCloudWatchLogs(key: kms.IKey): void {
  if (done.has(key)) return;
  done.add(key);
  const stack = Stack.of(key);
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'CloudWatchLogsUseOfTheKey',
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` } },
  }), true);
}

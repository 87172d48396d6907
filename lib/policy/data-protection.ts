import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { EnvironmentConfig } from '../config/environment-config';

/**
 * How stateful resources behave on delete and replacement, decided once per environment class
 * (the "secure defaults in one module" of STYLE.md). Stacks pass these values into constructs.
 */
export interface DataProtection {
  /** For resources that hold data and support no snapshot on delete (buckets, keys, MSK, secrets). */
  readonly removalPolicy: RemovalPolicy;
  /** For resources that can take a final snapshot (Aurora, ElastiCache). */
  readonly snapshotRemovalPolicy: RemovalPolicy;
  /** Deletion protection on databases and termination protection on stacks. */
  readonly deletionProtection: boolean;
  /** Automated backup retention. */
  readonly backupRetention: Duration;
  /** Log retention. */
  readonly logRetention: RetentionDays;
  /** Empty S3 buckets on stack deletion (only where nothing is retained). */
  readonly autoDeleteObjects: boolean;
}

/** The data-protection settings of an environment. */
export function dataProtectionFor(config: EnvironmentConfig): DataProtection {
  return {
    removalPolicy: config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    snapshotRemovalPolicy: config.retainData ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
    deletionProtection: config.retainData,
    backupRetention: Duration.days(config.backupRetentionDays),
    logRetention: config.logRetentionDays as RetentionDays,
    autoDeleteObjects: !config.retainData,
  };
}

import { EnvironmentConfig, RegionConfig } from './environment-config';
import { defaultZones } from './regions';

/**
 * The default environments of the design brief. Change them here; `bin/` can override account, tier and regions
 * per environment from CDK context.
 */

function region(name: string, vpcCidr: string, zoneCount: number, natGateways: number): RegionConfig {
  return { region: name, vpcCidr, availabilityZones: defaultZones(name, zoneCount), natGateways };
}

const sharedEdge = {
  priceClass: 'PriceClass_All',
  geoRestriction: { type: 'none' },
  wafRateLimitPer5Minutes: 2000,
} as const;

/** dev: one region, smallest sizes, nothing retained. Two AZs because EKS, Aurora and MSK need two. */
const dev: EnvironmentConfig = {
  name: 'dev',
  kind: 'dev',
  regions: [region('us-east-1', '10.10.0.0/16', 2, 1)],
  tier: 'dev',
  retainData: false,
  terminationProtection: false,
  backupRetentionDays: 1,
  logRetentionDays: 14,
  costCenter: 'connecthub-dev',
  dataClassification: 'internal',
  edge: { ...sharedEdge, priceClass: 'PriceClass_100', wafRateLimitPer5Minutes: 1000 },
  clusterAccess: { adminRoleArns: [], publicEndpointCidrs: [], deployerIsClusterAdmin: true },
  alarmEmails: [],
  kafkaReplication: 'off',
};

/** staging: two regions at launch size, data kept, prod-like topology (3 AZs, NAT per AZ). */
const staging: EnvironmentConfig = {
  name: 'staging',
  kind: 'staging',
  regions: [region('us-east-1', '10.20.0.0/16', 3, 3), region('eu-west-1', '10.21.0.0/16', 3, 3)],
  tier: 'launch',
  retainData: true,
  terminationProtection: true,
  backupRetentionDays: 35,
  logRetentionDays: 90,
  costCenter: 'connecthub-staging',
  dataClassification: 'confidential',
  edge: { ...sharedEdge, priceClass: 'PriceClass_100' },
  clusterAccess: { adminRoleArns: [], publicEndpointCidrs: [], deployerIsClusterAdmin: true },
  alarmEmails: [],
  kafkaReplication: 'off',
};

/** prod: three regions at the six-month tier (switch with `-c prod:tier=one-year`), data kept and protected. */
const prod: EnvironmentConfig = {
  name: 'prod',
  kind: 'prod',
  regions: [
    region('us-east-1', '10.30.0.0/16', 3, 3),
    region('eu-west-1', '10.31.0.0/16', 3, 3),
    region('ap-southeast-1', '10.32.0.0/16', 3, 3),
  ],
  tier: 'six-month',
  retainData: true,
  terminationProtection: true,
  backupRetentionDays: 35,
  logRetentionDays: 365,
  costCenter: 'connecthub-prod',
  dataClassification: 'confidential',
  edge: { ...sharedEdge, wafRateLimitPer5Minutes: 5000 },
  clusterAccess: { adminRoleArns: [], publicEndpointCidrs: [], deployerIsClusterAdmin: false },
  alarmEmails: [],
  kafkaReplication: 'off',
};

/** The long-lived environments, by name. */
export const LONG_LIVED_ENVIRONMENTS: Readonly<Record<string, EnvironmentConfig>> = { dev, staging, prod };

/** What `-c env=` accepts, for error messages. */
export const KNOWN_ENVIRONMENT_NAMES = ['dev', 'staging', 'prod', 'pr-<number>'] as const;

/** Short-lived pull-request environments: `pr-<number>`, number 1 to 999999 without leading zeros. */
export const PREVIEW_NAME_PATTERN = /^pr-[1-9][0-9]{0,5}$/;

/** Any well-formed environment name: lower-case letters, digits and dashes, starting with a letter, at most 20. */
export const ENVIRONMENT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

/** A `pr-N` environment: dev-sized, fully destroyable, cheapest edge. */
export function previewEnvironment(name: string): EnvironmentConfig {
  return { ...dev, name, kind: 'preview', costCenter: 'connecthub-preview' };
}

/**
 * Availability-zone letters per region, written down so that synth never has to look them up (a lookup needs
 * credentials). Only regions listed here can be used; add a row to support another.
 * Source: the AWS Regions and Availability Zones documentation (zone names as seen from a typical account).
 */
export const KNOWN_REGION_ZONES: Readonly<Record<string, readonly string[]>> = {
  'us-east-1': ['a', 'b', 'c', 'd', 'e', 'f'],
  'us-east-2': ['a', 'b', 'c'],
  'us-west-1': ['b', 'c'],
  'us-west-2': ['a', 'b', 'c', 'd'],
  'ca-central-1': ['a', 'b', 'd'],
  'eu-west-1': ['a', 'b', 'c'],
  'eu-west-2': ['a', 'b', 'c'],
  'eu-west-3': ['a', 'b', 'c'],
  'eu-central-1': ['a', 'b', 'c'],
  'eu-north-1': ['a', 'b', 'c'],
  'ap-southeast-1': ['a', 'b', 'c'],
  'ap-southeast-2': ['a', 'b', 'c'],
  'ap-northeast-1': ['a', 'c', 'd'],
  'ap-northeast-2': ['a', 'b', 'c', 'd'],
  'ap-south-1': ['a', 'b', 'c'],
  'sa-east-1': ['a', 'b', 'c'],
};

/** The region CloudFront, its WAF web ACL and its certificates must live in. */
export const EDGE_REGION = 'us-east-1';

/** The first `count` zone names of a known region, e.g. `us-east-1a, us-east-1b`. */
export function defaultZones(region: string, count: number): string[] {
  const letters = KNOWN_REGION_ZONES[region] ?? [];
  return letters.slice(0, count).map((letter) => `${region}${letter}`);
}

/** The ConnectHub home-region code (users are partitioned by it) for an AWS region. */
export function homeRegionCode(region: string): 'us' | 'eu' | 'ap' | 'other' {
  if (region.startsWith('us-') || region.startsWith('ca-') || region.startsWith('sa-')) return 'us';
  if (region.startsWith('eu-')) return 'eu';
  if (region.startsWith('ap-')) return 'ap';
  return 'other';
}

import { Stack, StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { Construct } from 'constructs';
import { ConnectHubEdge } from '../../constructs/edge/connecthub-edge';
import { ApiRegionalOrigin } from '../../constructs/edge/edge-props';
import { EnvironmentConfig } from '../config/environment-config';
import { DataProtection } from '../policy/data-protection';
import { CrossRegionParameter } from '../wiring/cross-region-parameter';
import { PLATFORM_KEYS } from '../wiring/platform-keys';
import { publishValue, readValue } from '../wiring/shared-parameters';

/** Keys this stack publishes (in us-east-1) for the observability stack there. */
export const EDGE_KEYS = {
  distributionId: 'edge/distribution-id',
  distributionDomainName: 'edge/distribution-domain-name',
} as const;

export interface EdgeStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly protection: DataProtection;
}

const PRICE_CLASSES: Record<EnvironmentConfig['edge']['priceClass'], cloudfront.PriceClass> = {
  PriceClass_100: cloudfront.PriceClass.PRICE_CLASS_100,
  PriceClass_200: cloudfront.PriceClass.PRICE_CLASS_200,
  PriceClass_All: cloudfront.PriceClass.PRICE_CLASS_ALL,
};

/**
 * Global (us-east-1): the environment's CloudFront distribution, WAF, image optimization and invalidation. The
 * api and realtime origins are the internal NLBs the platform stacks publish (ARN and hostname), reached as
 * CloudFront VPC origins: read directly in this region, through a cross-region parameter read elsewhere.
 */
export class EdgeStack extends Stack {
  public readonly edge: ConnectHubEdge;

  constructor(scope: Construct, id: string, props: EdgeStackProps) {
    super(scope, id, props);
    const { config, protection } = props;
    // Same region: a CloudFormation SSM parameter reference; other regions: a deploy-time cross-region read.
    const read = (region: string, key: string) => region === this.region
      ? readValue(this, config.name, region, key)
      : new CrossRegionParameter(this, `${crossRegionId(key)}-${region}`, { envName: config.name, sourceRegion: region, key }).value;
    const apiOrigins: ApiRegionalOrigin[] = config.regions.map(({ region }) => ({
      region,
      api: {
        loadBalancerArn: read(region, PLATFORM_KEYS.apiLoadBalancerArn),
        domainName: read(region, PLATFORM_KEYS.apiLoadBalancerHostname),
      },
      realtime: {
        loadBalancerArn: read(region, PLATFORM_KEYS.realtimeLoadBalancerArn),
        domainName: read(region, PLATFORM_KEYS.realtimeLoadBalancerHostname),
      },
    }));
    const { edge } = config;
    this.edge = new ConnectHubEdge(this, 'Edge', {
      primaryRegion: config.regions[0].region,
      apiOrigins,
      activeApiRegion: edge.activeApiRegion,
      // With a custom domain the viewer policy becomes TLSv1.2_2021 (the construct sets it with the certificate).
      certificateArn: edge.certificateArn,
      aliases: edge.domainNames,
      priceClass: PRICE_CLASSES[edge.priceClass],
      geoRestriction: edge.geoRestriction.type === 'none' ? undefined : { type: edge.geoRestriction.type, countries: edge.geoRestriction.countries },
      logRetention: protection.logRetention,
      removalPolicy: protection.removalPolicy,
      autoDeleteObjects: protection.autoDeleteObjects,
      waf: { rateLimit: edge.wafRateLimitPer5Minutes },
    });
    publishValue(this, config.name, this.region, EDGE_KEYS.distributionId, this.edge.distribution.distributionId);
    publishValue(this, config.name, this.region, EDGE_KEYS.distributionDomainName, this.edge.distribution.distributionDomainName);
  }
}

/** Construct id of a cross-region read. The api hostname keeps the id it had before the VPC origins (no replacement). */
function crossRegionId(key: string): string {
  if (key === PLATFORM_KEYS.apiLoadBalancerHostname) return 'ApiOrigin';
  return key.replace(/^platform\//, '').replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());
}

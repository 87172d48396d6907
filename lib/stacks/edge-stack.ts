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
 * regional API origins are the load balancers the platform stacks publish: read directly in this region, through
 * a cross-region parameter read elsewhere.
 */
export class EdgeStack extends Stack {
  public readonly edge: ConnectHubEdge;

  constructor(scope: Construct, id: string, props: EdgeStackProps) {
    super(scope, id, props);
    const { config, protection } = props;
    const apiOrigins: ApiRegionalOrigin[] = config.regions.map(({ region }) => ({
      region,
      domainName: region === this.region
        ? readValue(this, config.name, region, PLATFORM_KEYS.apiLoadBalancerHostname)
        : new CrossRegionParameter(this, `ApiOrigin-${region}`, {
          envName: config.name,
          sourceRegion: region,
          key: PLATFORM_KEYS.apiLoadBalancerHostname,
        }).value,
    }));
    const { edge } = config;
    this.edge = new ConnectHubEdge(this, 'Edge', {
      primaryRegion: config.regions[0].region,
      apiOrigins,
      hostedZone: edge.domainName && edge.hostedZoneId ? { zoneName: edge.domainName, hostedZoneId: edge.hostedZoneId } : undefined,
      priceClass: PRICE_CLASSES[edge.priceClass],
      geoRestriction: edge.geoRestriction.type === 'none' ? undefined : { type: edge.geoRestriction.type, countries: edge.geoRestriction.countries },
      logRetention: protection.logRetention,
      removalPolicy: protection.removalPolicy,
      waf: { rateLimit: edge.wafRateLimitPer5Minutes },
    });
    publishValue(this, config.name, this.region, EDGE_KEYS.distributionId, this.edge.distribution.distributionId);
    publishValue(this, config.name, this.region, EDGE_KEYS.distributionDomainName, this.edge.distribution.distributionDomainName);
  }
}

import { ArnFormat, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ResolvedWafOptions } from './edge-props';

/** Props of {@link EdgeWebAcl}. */
export interface EdgeWebAclProps {
  readonly options: ResolvedWafOptions;
  readonly logRetention: logs.RetentionDays;
  /** Removal policy of the WAF log group. */
  readonly removalPolicy: RemovalPolicy;
  /** Key that encrypts the WAF log group (its policy must admit CloudWatch Logs). */
  readonly encryptionKey: kms.IKey;
}

/** Names of the rules, in priority order. */
export const WAF_RULES = [
  'AWS-AWSManagedRulesAmazonIpReputationList',
  'AWS-AWSManagedRulesCommonRuleSet',
  'AWS-AWSManagedRulesKnownBadInputsRuleSet',
  'RateLimitPerIp',
] as const;

/**
 * WAF web ACL for CloudFront (scope CLOUDFRONT, so its stack must be in us-east-1): IP reputation,
 * common rule set, known bad inputs, and a per-IP rate limit; full logs to `aws-waf-logs-*`.
 */
export class EdgeWebAcl extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: EdgeWebAclProps) {
    super(scope, id);
    const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName });
    const managed = (name: string, priority: number, countOnly: readonly string[] = []): wafv2.CfnWebACL.RuleProperty => ({
      name: `AWS-${name}`,
      priority,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name,
          ...(countOnly.length > 0 ? { ruleActionOverrides: countOnly.map((rule) => ({ name: rule, actionToUse: { count: {} } })) } : {}),
        },
      },
      visibilityConfig: visibility(`AWS-${name}`),
    });

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      description: 'ConnectHub edge: managed rule groups and per-IP rate limit',
      visibilityConfig: visibility('ConnectHubEdge'),
      rules: [
        managed('AWSManagedRulesAmazonIpReputationList', 0),
        managed('AWSManagedRulesCommonRuleSet', 1, props.options.commonRuleSetCountOnly),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 2),
        {
          name: 'RateLimitPerIp',
          priority: 3,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: props.options.rateLimit,
              aggregateKeyType: 'IP',
              evaluationWindowSec: props.options.rateLimitWindow.toSeconds(),
            },
          },
          visibilityConfig: visibility('RateLimitPerIp'),
        },
      ],
    });

    // WAF requires the `aws-waf-logs-` prefix. The logs hold client IPs and request lines (Authorization
    // and Cookie redacted), encrypted with the edge key.
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `aws-waf-logs-${Names.uniqueResourceName(this, { maxLength: 60 })}`,
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.removalPolicy,
    });
    const logGroupArn = Stack.of(this).formatArn({
      service: 'logs', resource: 'log-group', resourceName: this.logGroup.logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      logDestinationConfigs: [logGroupArn],
      redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'cookie' } }],
    });
  }
}

import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeAwsCustomResourceFunction } from '../../constructs/nag/aws-custom-resource-function';
import { parameterName } from './shared-parameters';

/** Props of {@link CrossRegionParameter}. */
export interface CrossRegionParameterProps {
  /** Environment name (part of the parameter name). */
  readonly envName: string;
  /** Region whose stack published the value. */
  readonly sourceRegion: string;
  /** Shared-parameter key, e.g. `platform/api-load-balancer-hostname`. */
  readonly key: string;
  /**
   * VPC for the reading function.
   * @default - not in a VPC (the edge stack has none)
   */
  readonly vpc?: ec2.IVpc;
}

/**
 * Reads a shared parameter that a stack in another region published (SSM parameters are regional), through a
 * deploy-time `ssm:GetParameter` on exactly that parameter. The value is read when this resource is created or its
 * properties change; after re-publishing a value, redeploy the consumer with `-c refreshCrossRegion=<anything new>`.
 */
export class CrossRegionParameter extends Construct {
  /** The value, a deploy-time reference. */
  public readonly value: string;

  constructor(scope: Construct, id: string, props: CrossRegionParameterProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const name = parameterName(props.envName, props.sourceRegion, props.key);
    const refresh = this.node.tryGetContext('refreshCrossRegion');
    const read = new cr.AwsCustomResource(this, 'Read', {
      resourceType: 'Custom::CrossRegionParameter',
      onUpdate: {
        service: 'SSM',
        action: 'getParameter',
        parameters: { Name: name, ...(refresh ? { RefreshToken: String(refresh) } : {}) },
        region: props.sourceRegion,
        physicalResourceId: cr.PhysicalResourceId.of(name),
      },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({
        resources: [stack.formatArn({ service: 'ssm', region: props.sourceRegion, resource: 'parameter', resourceName: name.slice(1) })],
      }),
      installLatestAwsSdk: false,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : undefined,
    });
    this.value = read.getResponseField('Parameter.Value');
    const policy = read.node.tryFindChild('CustomResourcePolicy')?.node.defaultChild;
    if (policy) {
      Validations.of(policy).acknowledge({
        id: 'NIST.800.53.R5-IAMNoInlinePolicy',
        reason: 'Written by CDK for this custom resource: one statement, ssm:GetParameter on the single parameter read.',
      });
    }
    acknowledgeAwsCustomResourceFunction(stack, { inVpc: props.vpc !== undefined });
  }
}

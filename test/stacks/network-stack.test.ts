import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { LONG_LIVED_ENVIRONMENTS } from '../../lib/config/environments';
import { dataProtectionFor } from '../../lib/policy/data-protection';
import { addStageChecks } from '../../lib/security-gates';
import { NetworkStack } from '../../lib/stacks/network-stack';

// One app, two stacks (prod-like and dev-like), synthesized once for the whole file.
const app = new App();
addStageChecks(app);
const prod = LONG_LIVED_ENVIRONMENTS.prod;
const dev = LONG_LIVED_ENVIRONMENTS.dev;
const prodStack = new NetworkStack(app, 'ProdNetwork', {
  env: { account: '111111111111', region: prod.regions[1].region },
  envName: 'prod',
  regionConfig: prod.regions[1],
  protection: dataProtectionFor(prod),
});
const devStack = new NetworkStack(app, 'DevNetwork', {
  env: { region: dev.regions[0].region },
  envName: 'dev',
  regionConfig: dev.regions[0],
  protection: dataProtectionFor(dev),
});
const prodTemplate = Template.fromStack(prodStack);
const devTemplate = Template.fromStack(devStack);

describe('network stack', () => {
  test('VPC over the configured CIDR and the listed zones, no lookups', () => {
    prodTemplate.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.31.0.0/16', EnableDnsHostnames: true, EnableDnsSupport: true });
    const zones = Object.values(prodTemplate.findResources('AWS::EC2::Subnet')).map((s) => s.Properties.AvailabilityZone);
    expect([...new Set(zones)].sort()).toEqual(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
    expect(app.node.metadata.filter((m) => m.type === 'aws:cdk:missing')).toEqual([]);
  });

  test('public, private and isolated subnets in every zone; public subnets assign no public IPs', () => {
    prodTemplate.resourceCountIs('AWS::EC2::Subnet', 9);
    devTemplate.resourceCountIs('AWS::EC2::Subnet', 6);
    for (const subnet of Object.values(prodTemplate.findResources('AWS::EC2::Subnet'))) {
      expect(subnet.Properties.MapPublicIpOnLaunch ?? false).toBe(false);
    }
    const types = Object.values(prodTemplate.findResources('AWS::EC2::Subnet')).map(
      (s) => s.Properties.Tags.find((t: { Key: string }) => t.Key === 'aws-cdk:subnet-type').Value,
    );
    expect(types.sort()).toEqual(['Isolated', 'Isolated', 'Isolated', 'Private', 'Private', 'Private', 'Public', 'Public', 'Public']);
  });

  test('subnets carry the load balancer controller\'s discovery tags: internal-elb on private, elb on public', () => {
    const tagged = (key: string) =>
      Object.values(prodTemplate.findResources('AWS::EC2::Subnet'))
        .filter((s) => s.Properties.Tags.some((t: { Key: string; Value: string }) => t.Key === key && t.Value === '1'))
        .map((s) => s.Properties.Tags.find((t: { Key: string }) => t.Key === 'aws-cdk:subnet-type').Value);
    expect(tagged('kubernetes.io/role/internal-elb')).toEqual(['Private', 'Private', 'Private']);
    expect(tagged('kubernetes.io/role/elb')).toEqual(['Public', 'Public', 'Public']);
  });

  test('a NAT gateway per zone in prod, one in dev', () => {
    prodTemplate.resourceCountIs('AWS::EC2::NatGateway', 3);
    devTemplate.resourceCountIs('AWS::EC2::NatGateway', 1);
  });

  test('S3 gateway endpoint and interface endpoints for the services the workloads call', () => {
    prodTemplate.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', ServiceName: Match.objectLike({}) });
    const services = Object.values(prodTemplate.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }))
      .map((e) => String(e.Properties.ServiceName).replace('com.amazonaws.eu-west-1.', ''));
    expect(services.sort()).toEqual(['ecr.api', 'ecr.dkr', 'eks-auth', 'kms', 'logs', 'monitoring', 'secretsmanager', 'sts', 'xray']);
    // Endpoints admit HTTPS from the VPC's own range only; the client groups admit nothing.
    for (const sg of Object.values(prodTemplate.findResources('AWS::EC2::SecurityGroup'))) {
      for (const rule of sg.Properties.SecurityGroupIngress ?? []) {
        expect(rule).toMatchObject({ CidrIp: '10.31.0.0/16', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' });
      }
    }
  });

  test('flow logs of all traffic to a KMS-encrypted log group with the environment retention', () => {
    prodTemplate.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    prodTemplate.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365, KmsKeyId: Match.anyValue() });
    devTemplate.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 });
    prodTemplate.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('prod retains its flow logs and key; dev destroys them', () => {
    prodTemplate.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    prodTemplate.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
    devTemplate.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
    devTemplate.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
  });

  test('VPC ids and the client security groups are shared as SSM parameters, not exports', () => {
    const names = Object.values(prodTemplate.findResources('AWS::SSM::Parameter')).map((p) => p.Properties.Name).sort();
    expect(names).toEqual([
      '/connecthub/prod/eu-west-1/network/data-client-security-group-id',
      '/connecthub/prod/eu-west-1/network/isolated-route-table-ids',
      '/connecthub/prod/eu-west-1/network/isolated-subnet-ids',
      '/connecthub/prod/eu-west-1/network/private-route-table-ids',
      '/connecthub/prod/eu-west-1/network/private-subnet-ids',
      '/connecthub/prod/eu-west-1/network/public-subnet-ids',
      '/connecthub/prod/eu-west-1/network/vpc-id',
      '/connecthub/prod/eu-west-1/network/workload-security-group-id',
    ]);
    expect(prodTemplate.toJSON().Outputs ?? {}).toEqual({});
  });

  test('the default security group is stripped of its rules', () => {
    prodTemplate.resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
  });

  test('cdk-nag AWS Solutions and NIST 800-53 rev 5: no unacknowledged findings', () => {
    for (const pack of [new AwsSolutionsChecks(), new NIST80053R5Checks()]) {
      const report = pack.validateScope(app);
      expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`)).toEqual([]);
    }
  });
});

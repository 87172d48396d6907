import { IConstruct } from 'constructs';
import { Aspects, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks, WriteNagSuppressionsToCloudFormationAspect } from 'cdk-nag';
import { EnvironmentConfig } from './config/environment-config';
import { GrantPolicyAcknowledgment } from './grant-policy-acknowledgment';

/**
 * The checks every synth passes: cdk-nag's AWS Solutions and NIST 800-53 rev 5 packs as policy-validation plugins
 * (any unacknowledged finding fails synth), with acknowledgments copied into template metadata for auditors.
 * CDK's built-in CloudFormation validation is turned to errors in cdk.json
 * (`@aws-cdk/core:validateAgainstDefaultRules`).
 */
export function addSecurityChecks(app: IConstruct): void {
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }),
    new NIST80053R5Checks(app, { writeSuppressionsToCloudFormation: true }),
  );
}

/**
 * Per-stage part of the gates. Aspects added to the app do not reach into nested stages (each stage synthesizes
 * its own subtree first), so every stage adds its own.
 */
export function addStageChecks(stage: IConstruct): void {
  Aspects.of(stage).add(new GrantPolicyAcknowledgment());
  // The packs register this aspect on the app, which does not reach nested stages: record acknowledgments per stage.
  Aspects.of(stage).add(new WriteNagSuppressionsToCloudFormationAspect());
}

/** The cost and ownership tags on every taggable resource of an environment. */
export function tagEnvironment(scope: IConstruct, config: EnvironmentConfig): void {
  Tags.of(scope).add('Project', 'ConnectHub');
  Tags.of(scope).add('Environment', config.name);
  Tags.of(scope).add('CostCenter', config.costCenter);
  Tags.of(scope).add('DataClassification', config.dataClassification);
}

import { Duration, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { DataProtection } from '../policy/data-protection';
import { publishValue } from '../wiring/shared-parameters';

/** Keys this stack publishes (in the primary region) for the platform stacks of every region. */
export const IDENTITY_KEYS = {
  issuer: 'identity/jwt-issuer',
  jwksUrl: 'identity/jwks-url',
  audience: 'identity/jwt-audience',
} as const;

export interface IdentityStackProps extends StackProps {
  readonly envName: string;
  readonly protection: DataProtection;
}

/**
 * The environment's user directory (primary region, stateful): a Cognito user pool whose ID tokens the backend
 * verifies (issuer and JWKS URL), with the Plus plan's threat protection, and the app client the web and mobile
 * clients sign in with.
 */
export class IdentityStack extends Stack {
  public readonly userPool: cognito.UserPool;

  constructor(scope: Construct, id: string, props: IdentityStackProps) {
    super(scope, id, props);
    const { envName, protection } = props;
    this.userPool = new cognito.UserPool(this, 'Users', {
      selfSignUpEnabled: true,
      signInAliases: { email: true, username: true },
      autoVerify: { email: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      passwordPolicy: {
        minLength: 12,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: protection.deletionProtection,
      removalPolicy: protection.removalPolicy,
    });
    Validations.of(this.userPool.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-COG2',
      reason: 'Consumer social app: MFA is offered (TOTP) rather than forced; the Plus plan\'s adaptive authentication demands it on risky sign-ins.',
    });

    const client = this.userPool.addClient('AppClient', {
      authFlows: { userSrp: true },
      // The clients sign in with SRP through the Cognito SDK; there is no hosted UI. Without this CDK would enable the
      // implicit and code OAuth flows with the callback https://example.com. A hosted UI adds its real callback URLs.
      disableOAuth: true,
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      enableTokenRevocation: true,
    });

    const issuer = `https://cognito-idp.${this.region}.amazonaws.com/${this.userPool.userPoolId}`;
    publishValue(this, envName, this.region, IDENTITY_KEYS.issuer, issuer);
    publishValue(this, envName, this.region, IDENTITY_KEYS.jwksUrl, `${issuer}/.well-known/jwks.json`);
    publishValue(this, envName, this.region, IDENTITY_KEYS.audience, client.userPoolClientId);
  }
}

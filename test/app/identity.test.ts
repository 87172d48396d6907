import { stacksOf, TEST_ENVIRONMENTS } from '../support/synthesized-app';

/** The user directory as synthesized for every environment: one app client, SRP sign-in, no OAuth flows. */
const identities = TEST_ENVIRONMENTS.map((env) => {
  const stack = stacksOf(env).find((s) => s.stackName.startsWith(`connecthub-${env}-identity-`));
  if (!stack) throw new Error(`${env}: no identity stack`);
  return { env, resources: Object.values(stack.template.Resources) };
});

test.each(identities)('$env: the app client signs in with SRP only and has no OAuth flows or callback URLs', ({ resources }) => {
  const clients = resources.filter((r) => r.Type === 'AWS::Cognito::UserPoolClient');
  expect(clients).toHaveLength(1);
  const p = clients[0].Properties;
  expect(p.ExplicitAuthFlows).toEqual(['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']);
  expect(p.AllowedOAuthFlowsUserPoolClient).not.toBe(true);
  expect(p.AllowedOAuthFlows).toBeUndefined();
  expect(p.CallbackURLs).toBeUndefined();
  expect(p.GenerateSecret).not.toBe(true);
});

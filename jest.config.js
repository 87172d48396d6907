/**
 * Jest runs TypeScript through SWC (transpile only); `npm run typecheck` type-checks separately.
 * Two projects: `unit` (constructs, Lambdas, backend, config) and `app`, whose tests read one synthesis of every
 * environment made once per run by its globalSetup (which jest runs only when an app test is selected).
 */
const transform = {
  '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
};
const common = { testEnvironment: 'node', transform };

module.exports = {
  maxWorkers: 2,
  // A global option: inside `projects` it is ignored. Generous because CI shares two cores with real services.
  testTimeout: 120000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      roots: ['<rootDir>/test', '<rootDir>/backend/test'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/app/'],
    },
    {
      ...common,
      displayName: 'app',
      roots: ['<rootDir>/test/app'],
      testMatch: ['**/*.test.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
    },
  ],
};

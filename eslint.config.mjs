// ESLint flat config. The rules that matter most are the boundaries of
// STYLE.md rule 1: libs/policy and libs/pki are plain TypeScript, with no
// framework, no database client, no environment and no clock of their own.
import tseslint from 'typescript-eslint';

const clockRules = [
  {
    selector: "NewExpression[callee.name='Date'][arguments.length=0]",
    message: 'libs must not read the clock: take `now: Date` as a parameter.',
  },
  {
    selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
    message: 'libs must not read the clock: take `now: Date` as a parameter.',
  },
  {
    selector: "MemberExpression[object.name='process'][property.name='env']",
    message: 'libs must not read the environment: configuration comes in as values.',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.data/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Tests read JSON answers loosely; production code may not.
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['libs/policy/**/*.ts', 'libs/pki/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*'], message: 'libs are framework-free (STYLE.md rule 1).' },
            {
              group: ['pg', 'pg-*', 'typeorm', 'typeorm/*', 'graphile-worker', '@moica/db', '**/db/**'],
              message: 'libs never talk to a database (STYLE.md rule 1).',
            },
          ],
        },
      ],
      'no-restricted-syntax': ['error', ...clockRules],
    },
  },
  {
    // Specs of the libs may build dates from literals but must not read the clock either.
    files: ['libs/policy/**/*.spec.ts', 'libs/pki/**/*.spec.ts'],
    rules: { 'no-restricted-syntax': ['error', ...clockRules] },
  },
);

// ESLint flat config: `npm run check:lint` (part of `npm test`) and `npm run lint:fix`.
// Type-checked rules through the TypeScript project service: tsconfig.json covers src, test, bench and migrations;
// src/web/tsconfig.json covers the web client.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      'bench/results/',
      'src/client/generated.ts',
      'src/web/src/gql/generated.ts',
    ],
  },
  {
    files: ['src/**/*.ts', 'src/**/*.tsx', 'test/**/*.ts', 'bench/**/*.ts', 'migrations/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // A leading `_` marks a parameter kept for its position or its decorator (type-graphql @Arg/@Args), or an ignored value.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
      // Async members without `await` implement Promise-returning interfaces (memory stores, Apollo hooks): `async` turns throws into rejections.
      '@typescript-eslint/require-await': 'off',
      // Promise.all over arrays that mix promises with null/undefined (nothing to wait for) is deliberate; all-non-promise input is still an error.
      '@typescript-eslint/await-thenable': ['error', { allowMixedPromiseArrays: true }],
      // Passing on a caught `unknown` error is allowed, as `only-throw-error` allows it for `throw`; rejecting with a literal is still an error.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  prettier,
);

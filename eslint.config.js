// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * The layer order inside @livestyle/core (docs/architecture.md): a folder imports only from folders in
 * lower layers (or its own); the entry files at src/ import anything. Between packages: core imports no
 * other @livestyle package; elements and the CLI never the service; nothing in the browser packages
 * imports Node built-ins.
 */
const CORE_LAYERS = [['backend', 'weights'], ['nets'], ['transforms', 'temporal'], ['pipeline'], ['io', 'optimize'], ['metrics']];
const coreFolders = CORE_LAYERS.flat();
const layerOf = (folder) => CORE_LAYERS.findIndex((l) => l.includes(folder));
const layerRules = coreFolders.map((folder) => {
  const above = coreFolders.filter((f) => f !== folder && layerOf(f) >= layerOf(folder));
  return {
    files: [`packages/core/src/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...above.map((f) => `../${f}/*`), '../*.js', '@livestyle/*'],
              message: `${folder}/ is in layer ${layerOf(folder)} of @livestyle/core: it imports only from lower layers (docs/architecture.md).`,
            },
          ],
        },
      ],
    },
  };
});
const packageRules = [
  ['packages/core/src/*.ts', ['@livestyle/*'], '@livestyle/core depends on no other @livestyle package.'],
  [
    'packages/elements/src/**/*.ts',
    ['@livestyle/cli', '@livestyle/cli/*', '@livestyle/service', '@livestyle/service/*', 'node:*', 'sharp', 'webgpu', 'commander'],
    '@livestyle/elements runs in browsers: no Node, CLI or service code.',
  ],
  [
    'packages/cli/src/**/*.ts',
    ['@livestyle/service', '@livestyle/service/*', '@livestyle/elements', '@livestyle/elements/*'],
    'the CLI depends on core and models only.',
  ],
].map(([files, group, message]) => ({
  files: [files],
  rules: { 'no-restricted-imports': ['error', { patterns: [{ group, message }] }] },
}));

export default tseslint.config(
  {
    ignores: [
      '**/dist/',
      'models/',
      'packages/models/cd16x/',
      'packages/models/vgg19/',
      '**/node_modules/',
      'test-artifacts/',
      'bench-out/',
      '**/vendor/',
      'tmp-exp/',
      'dist-site/',
      '**/custom-elements.json',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node, ...globals.browser },
      parserOptions: {
        projectService: {
          allowDefaultProject: [
            '*.js',
            'scripts/*.js',
            'test/support/*.js',
            'packages/*/bin/*.js',
            'packages/*/scripts/*.js',
            'packages/models/*.js',
          ],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['eslint.config.js'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  ...layerRules,
  ...packageRules,
);

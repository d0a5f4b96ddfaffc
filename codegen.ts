import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents for every operation the tests send: a test operation that drifts from
 * schema/schema.graphql fails the typecheck.
 */
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['test/**/*.ts', '!test/generated/**'],
  ignoreNoDocuments: true,
  generates: {
    'test/generated/': {
      preset: 'client',
      config: { useTypeImports: true, enumsAsTypes: true, importExtension: '.js' },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;

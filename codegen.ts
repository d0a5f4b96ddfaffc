import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents from schema/schema.graphql, for every operation the tests send and every one
 * the console sends: an operation that drifts from the schema fails the typecheck.
 */
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  ignoreNoDocuments: true,
  generates: {
    'test/generated/': {
      documents: ['test/**/*.ts', '!test/generated/**'],
      preset: 'client',
      config: { useTypeImports: true, enumsAsTypes: true, importExtension: '.js' },
      presetConfig: { fragmentMasking: false },
    },
    // The console sends the documents' text (documentMode string): no GraphQL parser in its bundle.
    'console/src/gql/': {
      documents: ['console/src/**/*.{ts,tsx}', '!console/src/gql/**'],
      preset: 'client',
      config: { useTypeImports: true, enumsAsTypes: true, documentMode: 'string' },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;

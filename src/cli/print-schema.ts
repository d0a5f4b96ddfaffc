import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { buildAppSchema } from '../server/schema.js';

export const SCHEMA_FILE = fileURLToPath(new URL('../../schema/schema.graphql', import.meta.url));

/** The SDL as committed in schema/schema.graphql. */
export async function printAppSchema(): Promise<string> {
  return printSchema(await buildAppSchema()) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(SCHEMA_FILE, await printAppSchema());
  console.log(`Wrote ${SCHEMA_FILE}`);
}

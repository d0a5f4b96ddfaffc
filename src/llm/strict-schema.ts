import { z } from 'zod';

/** A JSON Schema node, as sent to a model. */
export type JsonSchema = { [keyword: string]: unknown };

/**
 * The JSON Schema for `schema` in the form OpenAI's strict structured outputs accept
 * (https://platform.openai.com/docs/guides/structured-outputs#supported-schemas): every object
 * closed (`additionalProperties: false`) and listing every property in `required`, an optional
 * property sent as required and nullable, no `$schema` and no `default`.
 *
 * @throws Error when an optional property cannot take null: strict models send null for
 * "absent", so such a field must be declared `.nullish()` for the answer to parse.
 */
export function toStrictJsonSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output' }) as JsonSchema;
  delete json.$schema;
  return strictNode(json, '');
}

function strictNode(node: JsonSchema, path: string): JsonSchema {
  delete node.default;
  const properties = node.properties as Record<string, JsonSchema> | undefined;
  if (node.type === 'object' || properties) {
    const required = new Set((node.required as string[] | undefined) ?? []);
    for (const [key, child] of Object.entries(properties ?? {})) {
      if (!required.has(key) && !acceptsNull(child)) {
        throw new Error(
          `${path || '(root)'}.${key} is optional but not nullable: declare it .nullish() so a strict model's null parses`,
        );
      }
      strictNode(child, `${path}.${key}`);
    }
    node.properties = properties ?? {};
    node.required = Object.keys(properties ?? {});
    node.additionalProperties = false;
  }
  if (node.items && typeof node.items === 'object')
    strictNode(node.items as JsonSchema, `${path}[]`);
  for (const key of ['anyOf'] as const) {
    const branches = node[key] as JsonSchema[] | undefined;
    branches?.forEach((b, i) => strictNode(b, `${path}|${i}`));
  }
  for (const key of ['$defs', 'definitions'] as const) {
    const defs = node[key] as Record<string, JsonSchema> | undefined;
    for (const [name, def] of Object.entries(defs ?? {})) strictNode(def, `${key}.${name}`);
  }
  return node;
}

function acceptsNull(node: JsonSchema): boolean {
  if (node.type === 'null') return true;
  if (Array.isArray(node.type) && node.type.includes('null')) return true;
  return Array.isArray(node.anyOf) && (node.anyOf as JsonSchema[]).some(acceptsNull);
}

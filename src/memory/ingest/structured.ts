/**
 * Facts that arrive already structured (issue 11): an episode's `structured` payload (a step's
 * JSON numbers, task fields, agent capabilities) goes in as it is, with no model call. Its shape
 * is the extraction's, every field but names optional.
 */
import { z } from 'zod';
import type { Extraction } from './extract.js';

export const StructuredMemorySchema = z.object({
  entities: z
    .array(
      z.object({
        name: z.string().min(1),
        type: z.string().default('Thing'),
        summary: z.string().default(''),
      }),
    )
    .default([]),
  facts: z
    .array(
      z.object({
        subject: z.string().min(1),
        predicate: z.string().min(1),
        object: z.string().nullable().default(null),
        value: z.string(),
        validFrom: z.string().nullable().default(null),
        confidence: z.number().min(0).max(1).default(1),
      }),
    )
    .default([]),
});
export type StructuredMemory = z.input<typeof StructuredMemorySchema>;

/** The payload as an extraction; empty when there is none or it is malformed. */
export function structuredExtraction(payload: unknown): Extraction {
  if (payload === null || payload === undefined) return { entities: [], facts: [] };
  const parsed = StructuredMemorySchema.safeParse(payload);
  return parsed.success ? parsed.data : { entities: [], facts: [] };
}

/** Most numbers one step's output gives as facts. */
const MAX_NUMBERS = 20;

/**
 * The numbers of a JSON output as facts about `subject` (a step's task): `{"revenue": 12,
 * "costs": {"q1": 3}}` gives revenue = 12 and costs_q1 = 3. Arrays are skipped (no stable
 * name per item). Null when the output is not a JSON object.
 */
export function numbersAsFacts(
  output: unknown,
  subject: { name: string; type: string; summary: string },
): StructuredMemory | null {
  if (typeof output !== 'object' || output === null || Array.isArray(output)) return null;
  const facts: NonNullable<StructuredMemory['facts']> = [];
  const walk = (value: unknown, path: string[]) => {
    if (facts.length >= MAX_NUMBERS || path.length > 3) return;
    if (typeof value === 'number' && Number.isFinite(value)) {
      facts.push({ subject: subject.name, predicate: path.join('_'), value: String(value) });
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    }
  };
  walk(output, []);
  return facts.length > 0 ? { entities: [subject], facts } : null;
}

/**
 * What the platform knows of a finished step without reading its text: the task's priority and
 * who did it, and the capabilities (with proficiency) of the agent that did. Every predicate is
 * single-valued (contradict.ts), so a change ends the old fact with no judge call.
 */
export function stepFacts(
  task: { name: string; summary: string; priority: string },
  agent: { name: string; capabilities: { name: string; proficiency: number }[] } | null,
): StructuredMemory {
  const entities = [{ name: task.name, type: 'Task', summary: task.summary }];
  const facts: NonNullable<StructuredMemory['facts']> = [
    { subject: task.name, predicate: 'priority', value: task.priority },
  ];
  if (agent) {
    entities.push({ name: agent.name, type: 'Agent', summary: `the agent ${agent.name}` });
    facts.push({ subject: task.name, predicate: 'done_by', object: agent.name, value: agent.name });
    for (const c of agent.capabilities.slice(0, MAX_NUMBERS)) {
      const predicate = `capability_${c.name.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;
      facts.push({ subject: agent.name, predicate, value: String(c.proficiency) });
    }
  }
  return { entities, facts };
}

/** Two structured payloads as one (either may be null). */
export function joinStructured(...parts: (StructuredMemory | null)[]): StructuredMemory | null {
  const present = parts.filter((p): p is StructuredMemory => p !== null);
  if (present.length === 0) return null;
  return {
    entities: present.flatMap((p) => p.entities ?? []),
    facts: present.flatMap((p) => p.facts ?? []),
  };
}

/**
 * The free text of an episode's content worth a model call: the content itself, or for JSON,
 * its string values that read as sentences (four words or more). '' when there is none.
 */
export function freeText(content: string): string {
  const text = content.trim();
  if (!/^[[{]/.test(text)) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  const strings: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string' && v.trim().split(/\s+/).length >= 4) strings.push(v.trim());
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
  };
  walk(parsed);
  return strings.join('\n');
}

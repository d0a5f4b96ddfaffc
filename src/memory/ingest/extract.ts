/**
 * Extraction (issue 11): ONE structured-output call per episode gives its entities and facts
 * together; the contradiction judge is a second, rarer call (contradict.ts decides when).
 * Both schemas are strict-friendly: every property required, "none" as null.
 */
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { z } from 'zod';
import type { Entity, Episode } from '../../domain/memory.js';
import { purposeMarker } from '../../llm/routing.js';
import { cleanName, LIMITS } from '../../domain/validate.js';

export const ExtractionSchema = z.object({
  entities: z
    .array(
      z.object({
        name: z.string().describe('The name as the text gives it, or a known entity’s exact name'),
        type: z.string().describe('Organisation, Person, Product, Place, Metric, Event, ...'),
        summary: z.string().describe('One sentence on who or what it is, from this text'),
      }),
    )
    .max(40),
  facts: z
    .array(
      z.object({
        subject: z.string().describe('The entity the fact is about: one of the entities’ names'),
        predicate: z.string().describe('What is said of it, a few words: revenue, ceo, based_in'),
        object: z
          .string()
          .nullable()
          .describe('The other entity’s name when the value is an entity; null otherwise'),
        value: z.string().describe('The value as the text says it: "12M USD", "Berlin"'),
        validFrom: z
          .string()
          .nullable()
          .describe('ISO 8601 date from which it holds, when the text says; null otherwise'),
        confidence: z.number().min(0).max(1).describe('How sure, 0 to 1'),
      }),
    )
    .max(60),
});
export type Extraction = z.infer<typeof ExtractionSchema>;

export const JudgeSchema = z.object({
  contradicts: z.boolean().describe('True when both cannot hold at the same time'),
  reason: z.string().describe('Why, in one sentence'),
});
export type Judgement = z.infer<typeof JudgeSchema>;

/** The longest episode text one extraction sees (a document chunk is about 1500 characters). */
export const MAX_EPISODE_CHARS = 12_000;

const SYSTEM = `You read one episode of an organisation's experience and list the entities it names and the facts it states about them, as structured data.
- Reuse a known entity's exact name when the text means it (another spelling, a legal form, an abbreviation).
- A fact's subject and object are names of entities you list. A fact has one predicate (lower_snake words) and its value as the text says it.
- Only what the text says; no guesses. validFrom only when the text dates the fact.
${purposeMarker('memory')}`;

/** The extraction prompt: the known neighbourhood, then the episode's text after "Text:". */
export function extractionMessages(episode: Episode, known: readonly Entity[]) {
  const list = known.map((e) => `- ${e.name} (${e.type})`).join('\n');
  return [
    new SystemMessage(SYSTEM),
    new HumanMessage(
      [
        `Source: ${episode.source}`,
        `Occurred at: ${episode.occurredAt}`,
        `Known entities (reuse these exact names when the text means them):`,
        list || '- none yet',
        `Text:`,
        episode.content.slice(0, MAX_EPISODE_CHARS),
      ].join('\n'),
    ),
  ];
}

export async function extract(
  model: BaseChatModel,
  episode: Episode,
  known: readonly Entity[],
  signal?: AbortSignal,
): Promise<Extraction> {
  const structured = model.withStructuredOutput(ExtractionSchema, { name: 'memory_extraction' });
  return plainNames(
    ExtractionSchema.parse(await structured.invoke(extractionMessages(episode, known), { signal })),
  );
}

/**
 * A model's names as people read them in lists, like the names they type: what plainName
 * refuses becomes a space (cleanName), and at most a title's length (the schema bounds no
 * string). Facts' subjects and objects alike, so they still meet their entities by name.
 */
export function plainNames(x: Extraction): Extraction {
  const name = (text: string) => cleanName(text).slice(0, LIMITS.title).trim();
  return {
    entities: x.entities.map((e) => ({ ...e, name: name(e.name), type: name(e.type) })),
    facts: x.facts.map((f) => ({
      ...f,
      subject: name(f.subject),
      object: f.object === null ? null : name(f.object),
    })),
  };
}

/** Asks whether a new statement ends a current one (same subject and predicate). */
export async function judge(
  model: BaseChatModel,
  subject: string,
  current: string,
  next: string,
  signal?: AbortSignal,
): Promise<Judgement> {
  const structured = model.withStructuredOutput(JudgeSchema, { name: 'memory_judge' });
  return JudgeSchema.parse(
    await structured.invoke(
      [
        new SystemMessage(
          `You decide whether a new statement replaces a current one about the same thing.\n${purposeMarker('memory')}`,
        ),
        new HumanMessage(
          `Judge: do these two statements about ${subject} contradict (cannot both be true now)?\nCurrent: ${current}\nNew: ${next}`,
        ),
      ],
      { signal },
    ),
  );
}

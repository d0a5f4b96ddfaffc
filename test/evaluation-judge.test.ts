import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { describe, expect, it } from 'vitest';
import { JudgementSchema } from '../src/evolution/evaluate/judge.js';
import { JUDGE_REQUEST, judgeOffline, keyTerms } from '../src/llm/offline-judge.js';
import { OfflineChatModel } from '../src/llm/offline-model.js';
import { purposeMarker } from '../src/llm/routing.js';
import { toStrictJsonSchema } from '../src/llm/strict-schema.js';

const request = (r: Record<string, string | null>) => `${JUDGE_REQUEST}\n${JSON.stringify(r)}`;

describe('the offline judge', () => {
  it('scores the share of the expected output’s and the description’s key terms in the result', () => {
    const j = judgeOffline(
      request({
        task: 'Market brief',
        description: 'Research electric bikes',
        expectedOutput: 'market size in euros',
        result: 'The market size is 5 billion euros.',
      }),
    );
    // market, size, euros found; research, electric, bikes missing
    expect(j.score).toBe(0.5);
    expect(j.verdict).toBe('PARTIAL');
    expect(j.reasons[0]).toBe(
      'the result covers 3 of 6 key terms of the expected output and the description',
    );
    expect(j.reasons[1]).toBe('missing: research, electric, bikes');
  });

  it('passes a result that covers every term, and says so when there is nothing to check', () => {
    expect(
      judgeOffline(request({ expectedOutput: 'growth figures', result: 'Growth figures: 12%' }))
        .score,
    ).toBe(1);
    const nothing = judgeOffline(request({ result: 'anything' }));
    expect(nothing.score).toBe(0.7);
    expect(nothing.reasons[0]).toMatch(/nothing|No expected output/);
  });

  it('ignores short words, stop words and numbers', () => {
    expect(keyTerms('Write the 2024 report about the EU market, with the figures')).toEqual([
      'market',
      'figures',
    ]);
  });

  it('answers the judge’s structured request through the offline chat model', async () => {
    const model = new OfflineChatModel({});
    const answer = await model
      .withStructuredOutput(JudgementSchema, { name: 'judgement' })
      .invoke([
        new SystemMessage(`You judge.\n${purposeMarker('evaluation')}`),
        new HumanMessage(request({ expectedOutput: 'growth figures', result: 'no numbers here' })),
      ]);
    expect(answer.score).toBe(0);
    expect(answer.verdict).toBe('FAIL');
    expect(answer.reasons[0]).toMatch(/covers 0 of 2/);
  });

  it('has a schema that strict structured outputs accept', () => {
    const json = toStrictJsonSchema(JudgementSchema) as { required: string[] };
    expect(json.required).toEqual(['score', 'verdict', 'reasons', 'feedback']);
  });
});

import type { ChatRequest, Reply } from './openai-server.js';

/** An operator's execution request: it offers tools and asks for no structured answer. */
export const isExecution = (r: ChatRequest) => (r.tools?.length ?? 0) > 0 && !r.response_format;

/** The tool results a request carries. */
export const toolResultsOf = (r: ChatRequest) => r.messages.filter((m) => m.role === 'tool');

/**
 * A scripted OpenAI server's replies for an operator step: `execution` answers the agent loop's
 * requests; knowledge extraction learns nothing, the judge passes, anything else gets "ok".
 */
export function operatorScript(execution: (req: ChatRequest) => Reply) {
  return (req: ChatRequest): Reply => {
    const schema = req.response_format?.json_schema?.name;
    if (schema === 'knowledge') return { json: { items: [] } };
    if (schema === 'judgement')
      return { json: { score: 0.8, verdict: 'PASS', reasons: ['done'], feedback: 'Fine.' } };
    return isExecution(req) ? execution(req) : { content: 'ok' };
  };
}

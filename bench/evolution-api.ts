import type { Api } from './evolution-context.js';

/*
 * What the API offers this run, found by introspection: the mechanisms of issue 12 land in
 * parts, and the benchmark runs against whatever exists, saying what was missing.
 */

interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}
interface Field {
  name: string;
  args: { name: string; type: TypeRef }[];
  type: TypeRef;
}

const INTROSPECT = `{
  __schema { mutationType { fields { name
    args { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }
    type { kind name ofType { kind name ofType { kind name } } } } } }
  submit: __type(name: "SubmitTaskInput") { inputFields { name } }
}`;

export type Rate = (id: string, score: number, comment: string | null) => Promise<void>;

export interface ApiSurface {
  /** Sends a person's rating of a root task; null when the API has no rateTask. */
  rateTask: Rate | null;
  /** Sends a person's rating of a run (a step's report); null when the API has no rateRun. */
  rateRun: Rate | null;
  /** SubmitTaskInput takes `family`. */
  submitFamily: boolean;
  /** One line per missing part, for the output. */
  missing: string[];
}

const named = (t: TypeRef): TypeRef => (t.ofType ? named(t.ofType) : t);

export async function probeApi(api: Api): Promise<ApiSurface> {
  const data = await api.gql<{
    __schema: { mutationType: { fields: Field[] } };
    submit: { inputFields: { name: string }[] } | null;
  }>(INTROSPECT);
  const fields = data.__schema.mutationType.fields;
  const missing: string[] = [];
  const submitFamily = Boolean(data.submit?.inputFields.some((f) => f.name === 'family'));
  if (!submitFamily) missing.push('submitTask takes no family: families come from the titles');
  const rateTask = rater(api, fields, 'rateTask', 'taskId', missing);
  const rateRun = rater(api, fields, 'rateRun', 'runId', missing);
  return { rateTask, rateRun, submitFamily, missing };
}

/** A caller of rateTask/rateRun as the schema declares it, or null (and a line in `missing`). */
function rater(api: Api, fields: Field[], name: string, idArg: string, missing: string[]) {
  const rate = fields.find((f) => f.name === name);
  if (!rate) {
    missing.push(
      `${name} is not in the API yet: the users' scores and feedback cannot reach the platform`,
    );
    return null;
  }
  const kind = named(rate.type).kind;
  const selection = kind === 'OBJECT' || kind === 'INTERFACE' ? ' { __typename }' : '';
  const argNames = rate.args.map((a) => a.name);
  if (argNames.includes(idArg)) {
    // rateTask(taskId, score, comment): declare each argument with its own type.
    const decl = rate.args.map((a) => `$${a.name}: ${typeText(a.type)}`).join(', ');
    const pass = rate.args.map((a) => `${a.name}: $${a.name}`).join(', ');
    const doc = `mutation(${decl}) { ${name}(${pass})${selection} }`;
    return async (id: string, score: number, comment: string | null) => {
      await api.gql(doc, { [idArg]: id, score, comment });
    };
  }
  if (rate.args.length === 1) {
    const [arg] = rate.args;
    const doc = `mutation($input: ${typeText(arg!.type)}) { ${name}(${arg!.name}: $input)${selection} }`;
    return async (id: string, score: number, comment: string | null) => {
      await api.gql(doc, { input: { [idArg]: id, score, comment } });
    };
  }
  missing.push(`${name} has arguments this benchmark does not know: ${argNames.join(', ')}`);
  return null;
}

function typeText(t: TypeRef): string {
  if (t.kind === 'NON_NULL') return `${typeText(t.ofType!)}!`;
  if (t.kind === 'LIST') return `[${typeText(t.ofType!)}]`;
  return t.name!;
}

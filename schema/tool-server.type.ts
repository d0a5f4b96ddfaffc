import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { HeaderSource, ToolCallStatus, ToolServerTransport } from '../src/domain/tool-server.js';

registerEnumType(ToolServerTransport, {
  name: 'ToolServerTransport',
  description: 'STDIO: a process from the deployment allow-list; HTTP: MCP streamable HTTP.',
});
registerEnumType(HeaderSource, {
  name: 'ToolServerHeaderSource',
  description: 'ENCRYPTED: stored sealed in the graph; ENV: read from an MCP_HEADER_ variable.',
});
registerEnumType(ToolCallStatus, { name: 'ToolCallStatus' });

@ObjectType({ description: "MCP's hints about a tool (the server's word, not a guarantee)." })
export class McpToolAnnotations {
  @Field(() => String, { nullable: true })
  title!: string | null;
  @Field(() => Boolean, { nullable: true })
  readOnlyHint!: boolean | null;
  @Field(() => Boolean, { nullable: true })
  destructiveHint!: boolean | null;
  @Field(() => Boolean, { nullable: true })
  idempotentHint!: boolean | null;
  @Field(() => Boolean, { nullable: true })
  openWorldHint!: boolean | null;
}

@ObjectType({ description: 'A tool of an MCP server, as it was last listed.' })
export class McpTool {
  @Field(() => String)
  name!: string;
  @Field(() => String, { description: 'The name agents call it by: server__tool.' })
  qualifiedName!: string;
  @Field(() => String, {
    nullable: true,
    description:
      "Why no agent can use it, granted or not (null: agents can): it has no name, its qualifiedName breaks the rule of model function names (^[a-zA-Z0-9_-]{1,64}$, OpenAI's), or the server lists its name twice. grantTools and setToolPolicy refuse it.",
  })
  unusable!: string | null;
  @Field(() => String, { nullable: true })
  description!: string | null;
  @Field(() => String, { description: 'Its input JSON Schema, as JSON.' })
  inputSchema!: string;
  @Field(() => McpToolAnnotations)
  annotations!: McpToolAnnotations;
  @Field(() => Boolean, {
    description:
      'Whether a call may change the world (not read-only, not said to be harmless): its calls wait for a person unless a tool policy of its qualifiedName says otherwise.',
  })
  destructive!: boolean;
}

@ObjectType({ description: 'A header sent to the server; its value is never shown.' })
export class ToolServerHeader {
  @Field(() => String)
  name!: string;
  @Field(() => HeaderSource)
  source!: HeaderSource;
  @Field(() => String, { nullable: true, description: 'ENV: the variable it is read from.' })
  envVar!: string | null;
}

@ObjectType({ description: 'Who may use a server: one agent, or every agent with a capability.' })
export class ToolGrant {
  @Field(() => ID, { nullable: true })
  agentId!: string | null;
  @Field(() => String, { nullable: true })
  capability!: string | null;
  @Field(() => [String], { description: 'The tools granted; empty: all of them.' })
  tools!: string[];
}

@ObjectType({
  description: "An outside MCP server whose tools the tenant's agents may use (issue 16).",
})
export class ToolServer {
  @Field(() => ID)
  id!: string;
  @Field(() => String)
  name!: string;
  @Field(() => ToolServerTransport)
  transport!: ToolServerTransport;
  @Field(() => String, { nullable: true })
  url!: string | null;
  @Field(() => String, { nullable: true })
  command!: string | null;
  @Field(() => [String])
  args!: string[];
  @Field(() => Boolean)
  enabled!: boolean;
  @Field(() => Int, { description: 'The longest a call may take (MCP_CALL_TIMEOUT_MS caps it).' })
  timeoutMs!: number;
  @Field(() => [ToolServerHeader])
  headers!: ToolServerHeader[];
  @Field(() => [McpTool])
  tools!: McpTool[];
  @Field(() => DateTimeISOResolver, { nullable: true })
  toolsRefreshedAt!: string | null;
  @Field(() => String, { nullable: true, description: 'Why the last listing failed, if it did.' })
  lastError!: string | null;
  @Field(() => DateTimeISOResolver)
  createdAt!: string;
  @Field(() => DateTimeISOResolver)
  updatedAt!: string;
}

@ObjectType({ description: 'One call an agent made to an MCP tool, recorded as it ended.' })
export class ToolCall {
  @Field(() => ID)
  id!: string;
  @Field(() => ID)
  runId!: string;
  @Field(() => ID)
  taskId!: string;
  @Field(() => ID)
  agentId!: string;
  @Field(() => String, { description: 'The server, by name.' })
  server!: string;
  @Field(() => String)
  tool!: string;
  @Field(() => String, { description: "The model's call id (resolveToolCall names it)." })
  callId!: string;
  @Field(() => String, { description: 'Its arguments as JSON, secrets redacted.' })
  args!: string;
  @Field(() => String, { nullable: true, description: 'The start of the result.' })
  resultSummary!: string | null;
  @Field(() => Int)
  resultChars!: number;
  @Field(() => Boolean, { description: 'Whether the model saw only the start of the result.' })
  truncated!: boolean;
  @Field(() => Int)
  durationMs!: number;
  @Field(() => ToolCallStatus)
  status!: ToolCallStatus;
  @Field(() => String, { nullable: true })
  error!: string | null;
  @Field(() => DateTimeISOResolver)
  startedAt!: string;
}

@InputType({ description: 'A header: exactly one of value (stored encrypted) or fromEnv.' })
export class ToolServerHeaderInput {
  @Field(() => String)
  name!: string;
  @Field(() => String, { nullable: true, description: 'Sealed with MCP_SECRET_KEY; never shown.' })
  value?: string | null;
  @Field(() => String, { nullable: true, description: 'A variable named MCP_HEADER_*.' })
  fromEnv?: string | null;
}

@InputType()
export class ToolServerPatch {
  @Field(() => String, { nullable: true, description: 'HTTP: the MCP endpoint.' })
  url?: string | null;
  @Field(() => String, { nullable: true, description: 'STDIO: as MCP_STDIO_ALLOW lists it.' })
  command?: string | null;
  @Field(() => [String], { nullable: true })
  args?: string[] | null;
  @Field(() => Boolean, { nullable: true })
  enabled?: boolean | null;
  @Field(() => Int, { nullable: true })
  timeoutMs?: number | null;
  @Field(() => [ToolServerHeaderInput], { nullable: true, description: 'Replaces all headers.' })
  headers?: ToolServerHeaderInput[] | null;
}

@InputType()
export class ToolServerInput extends ToolServerPatch {
  @Field(() => String, { description: 'Lower-case, 1 to 30 characters: prefixes its tools.' })
  name!: string;
  @Field(() => ToolServerTransport)
  transport!: ToolServerTransport;
}

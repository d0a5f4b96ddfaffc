/**
 * A recorded change of state of something the platform evolves (a lesson, a skill, an agent
 * version): from, to, why, and who decided (issue 12). Kept as (:Transition)-[:OF]->(subject)
 * so the history is one hop in Neo4j Browser.
 */
export interface Transition {
  id: string;
  tenantId: string;
  subjectLabel: 'Knowledge' | 'AgentVersion';
  subjectId: string;
  /** null for the first state (created). */
  from: string | null;
  to: string;
  reason: string;
  /** PLATFORM, or the person (user id / key name) who decided. */
  actor: string;
  at: string;
}

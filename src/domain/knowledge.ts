export enum KnowledgeKind {
  FACT = 'FACT',
  LESSON = 'LESSON',
  SUMMARY = 'SUMMARY',
  SKILL = 'SKILL',
}

export interface Knowledge {
  id: string;
  tenantId: string;
  kind: KnowledgeKind;
  content: string;
  confidence: number;
  tags: string[];
  /** Lessons and skills (issue 12): CANDIDATE, ACTIVE or RETIRED; null for other kinds. */
  status?: string | null;
  /** A lesson's scope: the capability and the task family it applies to (null: any). */
  capability?: string | null;
  family?: string | null;
  /** How many times it was drawn (near-copies strengthen it). */
  strength?: number | null;
  createdAt: string;
  updatedAt: string;
}

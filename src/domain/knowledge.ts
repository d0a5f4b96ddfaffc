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
  createdAt: string;
  updatedAt: string;
}

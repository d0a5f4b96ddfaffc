export enum MessageKind {
  CHAT = 'CHAT',
  DELEGATION = 'DELEGATION',
  REPORT = 'REPORT',
  QUESTION = 'QUESTION',
  ANSWER = 'ANSWER',
}

export interface Message {
  id: string;
  tenantId: string;
  kind: MessageKind;
  content: string;
  /** Set when a person sent it; otherwise an agent did (the SENT edge). */
  senderUser: string | null;
  broadcast: boolean;
  conversationId: string;
  /** Position in its conversation, from 1: the stable order. */
  seq: number;
  createdAt: string;
}

export interface Conversation {
  id: string;
  tenantId: string;
  title: string | null;
  messageCount: number;
  createdAt: string;
  updatedAt: string;
}

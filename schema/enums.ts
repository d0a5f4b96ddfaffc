import { registerEnumType } from 'type-graphql';
import { AgentRole, AgentStatus } from '../src/domain/agent.js';
import { AuditOutcome, Role } from '../src/domain/auth.js';
import { KnowledgeKind } from '../src/domain/knowledge.js';
import { MessageKind } from '../src/domain/message.js';
import { ApprovalDecision, FailurePolicy, TaskPriority, TaskStatus } from '../src/domain/task.js';

registerEnumType(AgentRole, {
  name: 'AgentRole',
  description: 'CHIEF_OF_STAFF plans and delegates; MASTER_OPERATOR executes.',
});
registerEnumType(AgentStatus, { name: 'AgentStatus' });
registerEnumType(TaskPriority, { name: 'TaskPriority' });
registerEnumType(TaskStatus, { name: 'TaskStatus' });
registerEnumType(FailurePolicy, {
  name: 'FailurePolicy',
  description:
    'What a parent does when a step fails: FAIL_FAST cancels the rest, CONTINUE lets the other branches finish.',
});
registerEnumType(ApprovalDecision, { name: 'ApprovalDecision' });
registerEnumType(MessageKind, { name: 'MessageKind' });
registerEnumType(KnowledgeKind, { name: 'KnowledgeKind' });
registerEnumType(Role, {
  name: 'Role',
  description:
    'VIEWER reads and subscribes; OPERATOR also manages agents, tasks, messages, knowledge and documents; ADMIN also keys, tenants, audit and organisation export, import and deletion.',
});
registerEnumType(AuditOutcome, { name: 'AuditOutcome' });

/** List orders. Every order breaks ties by id, so pages are stable. */
export enum ListOrder {
  CREATED_ASC = 'CREATED_ASC',
  CREATED_DESC = 'CREATED_DESC',
  UPDATED_ASC = 'UPDATED_ASC',
  UPDATED_DESC = 'UPDATED_DESC',
}
registerEnumType(ListOrder, { name: 'ListOrder', description: 'Order of a list; ties by id.' });

export enum AgentOrder {
  CREATED_ASC = 'CREATED_ASC',
  CREATED_DESC = 'CREATED_DESC',
  UPDATED_DESC = 'UPDATED_DESC',
  NAME_ASC = 'NAME_ASC',
}
registerEnumType(AgentOrder, { name: 'AgentOrder' });

export enum TaskOrder {
  CREATED_ASC = 'CREATED_ASC',
  CREATED_DESC = 'CREATED_DESC',
  UPDATED_DESC = 'UPDATED_DESC',
  TITLE_ASC = 'TITLE_ASC',
}
registerEnumType(TaskOrder, { name: 'TaskOrder' });

export {
  AgentRole,
  ApprovalDecision,
  FailurePolicy,
  AgentStatus,
  AuditOutcome,
  KnowledgeKind,
  MessageKind,
  Role,
  TaskPriority,
  TaskStatus,
};

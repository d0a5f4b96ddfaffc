/*
 * Headings the agents' prompts carry and the offline model reads, as purposeMarker is (routing.ts):
 * here, so that the model's side does not depend on the agents that write them.
 */

/** Frames a person's reason for rejecting a plan (rejectPlan, issue 13) in describeTask. */
export const PLAN_REJECTED = 'A person rejected your previous plan for this task, saying:';

/** The heading below a step's own text: what follows it is its inputs, not its asks. */
export const EARLIER_STEPS = 'Earlier steps produced:';

/** The heading of the memory its Chief of Staff gives a step, after its inputs. */
export const MEMORY_GIVEN = 'What your Chief of Staff gives you from memory:';

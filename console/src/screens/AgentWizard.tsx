import { useLayoutEffect, useRef, useState } from 'react';
import { graphql } from '../gql';
import type { AgentRole, OrganisationAgentRowFragment } from '../gql/graphql';
import { useMutation } from '../hooks';
import { ErrorNote } from '../components/ErrorNote';
import { useDialog } from '../components/dialog';

export const ROLE_NAMES: Record<AgentRole, string> = {
  CHIEF_OF_STAFF: 'Chief of Staff',
  MASTER_OPERATOR: 'Master Operator',
};

// The fragment is defined in Organisation.tsx: the new agent comes back as a table row.
const CreateAgent = graphql(`
  mutation OrganisationCreateAgent($input: CreateAgentInput!) {
    createAgent(input: $input) {
      ...OrganisationAgentRow
    }
  }
`);

/**
 * The longest capability name createAgent accepts: the API's LIMITS.name (src/domain/validate.ts).
 * Repeated, since the console imports only the printed schema (its image builds without src/);
 * test/console-dialogs.int.test.ts types that limit and one more, so the two cannot drift.
 */
export const CAPABILITY_MAX = 100;

/** What is wrong with the capabilities typed, in words, or '' when nothing is. */
function capabilityProblem(names: string[]): string {
  const long = names.find((n) => n.length > CAPABILITY_MAX);
  if (!long) return '';
  const shown = long.length > 30 ? `${long.slice(0, 30)}…` : long;
  const rule = `a capability has at most ${CAPABILITY_MAX} characters`;
  return `“${shown}” has ${long.length} characters: ${rule}.`;
}

/** "a, b,,c " -> ["a", "b", "c"], without repeats. */
function capabilityNames(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
}

/**
 * Three short steps (who, what it can do, how it behaves), then createAgent. The API is the
 * judge of the fields: its validation errors show here and the wizard stays where it is.
 */
export function AgentWizard(props: {
  onCreated(agent: OrganisationAgentRowFragment): void;
  onCancel(): void;
}) {
  const [step, setStep] = useState(1);
  const [name, setName] = useState('');
  const [role, setRole] = useState<AgentRole>('MASTER_OPERATOR');
  const [capabilities, setCapabilities] = useState('');
  const [model, setModel] = useState('');
  const [instructions, setInstructions] = useState('');
  const create = useMutation(CreateAgent);
  // Escape cancels, as the Cancel button does (not while the agent is being created).
  const dialog = useDialog(() => !create.busy && props.onCancel());
  const caps = capabilityNames(capabilities);
  const capsProblem = capabilityProblem(caps);
  // Refused on its own step (the form's validation stops Next), not by the API two steps later.
  const capsField = useRef<HTMLInputElement>(null);
  useLayoutEffect(() => capsField.current?.setCustomValidity(capsProblem), [capsProblem, step]);

  async function submit() {
    const result = await create.run({
      input: {
        name: name.trim(),
        role,
        capabilities: caps.map((c) => ({ name: c })),
        // Empty means "the platform's default": send nothing rather than an empty string.
        model: model.trim() || null,
        systemPrompt: instructions.trim() || null,
      },
    });
    if (result) props.onCreated(result.createAgent);
  }

  return (
    <section aria-label="New agent" className="panel" {...dialog}>
      <h2>New agent</h2>
      <p className="muted">Step {step} of 3</p>
      {/* A form, so Enter in a field moves on (Next) or creates (last step). */}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (create.busy) return;
          if (step < 3) setStep(step + 1);
          else void submit();
        }}
      >
        {step === 1 && (
          <>
            <label htmlFor="new-agent-name">Name</label>
            <input
              id="new-agent-name"
              autoFocus
              required
              // Spaces alone are no name: refused here, on its own step.
              pattern=".*\S.*"
              maxLength={100}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
            <label htmlFor="new-agent-role">Role</label>
            <select
              id="new-agent-role"
              value={role}
              onChange={(e) => setRole(e.target.value as AgentRole)}
            >
              <option value="CHIEF_OF_STAFF">Chief of Staff</option>
              <option value="MASTER_OPERATOR">Master Operator</option>
            </select>
            <p className="hint">
              A Chief of Staff plans and delegates; a Master Operator carries out the steps.
            </p>
          </>
        )}
        {step === 2 && (
          <>
            <label htmlFor="new-agent-capabilities">Capabilities</label>
            <input
              id="new-agent-capabilities"
              ref={capsField}
              autoFocus
              aria-describedby={
                'new-agent-capabilities-hint' + (capsProblem ? ' new-agent-capabilities-error' : '')
              }
              aria-invalid={capsProblem ? true : undefined}
              value={capabilities}
              onChange={(e) => setCapabilities(e.target.value)}
              placeholder="research, writing"
            />
            {capsProblem && (
              <p className="error" id="new-agent-capabilities-error">
                {capsProblem}
              </p>
            )}
            <p className="hint" id="new-agent-capabilities-hint">
              Names separated by commas; tasks that require a capability go to agents that have it.
            </p>
            <label htmlFor="new-agent-model">Model</label>
            <input
              id="new-agent-model"
              aria-describedby="new-agent-model-hint"
              value={model}
              onChange={(e) => setModel(e.target.value)}
              placeholder="gpt-4o-mini"
            />
            <p className="hint" id="new-agent-model-hint">
              Optional: leave it empty for the platform’s default model.
            </p>
          </>
        )}
        {step === 3 && (
          <>
            <label htmlFor="new-agent-instructions">Instructions</label>
            <textarea
              id="new-agent-instructions"
              autoFocus
              rows={5}
              cols={60}
              aria-describedby="new-agent-instructions-hint"
              value={instructions}
              onChange={(e) => setInstructions(e.target.value)}
            />
            <p className="hint" id="new-agent-instructions-hint">
              Optional: the agent’s system prompt. Empty: the platform’s instructions for its role.
            </p>
            <h3>Will be created</h3>
            <p>
              A {ROLE_NAMES[role]} named “{name.trim() || '(no name)'}”,{' '}
              {caps.length ? `with the capabilities ${caps.join(', ')}` : 'with no capabilities'},
              on {model.trim() ? `the model ${model.trim()}` : 'the platform’s default model'},{' '}
              {instructions.trim()
                ? `with instructions of ${instructions.trim().length} characters`
                : 'with the default instructions'}
              .
            </p>
          </>
        )}
        {create.error !== undefined && <ErrorNote error={create.error} />}
        <div className="row">
          {step > 1 && (
            <button
              type="button"
              className="secondary"
              disabled={create.busy}
              onClick={() => setStep(step - 1)}
            >
              Back
            </button>
          )}
          {step < 3 && <button type="submit">Next</button>}
          {step === 3 && (
            <button type="submit" disabled={create.busy}>
              {create.busy ? 'Creating…' : 'Create agent'}
            </button>
          )}
          <button type="button" className="link" disabled={create.busy} onClick={props.onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

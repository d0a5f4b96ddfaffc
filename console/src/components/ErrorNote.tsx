import { ApiError } from '../api';

/** An API error in words: what went wrong and what to do. */
export function ErrorNote({ error }: { error: unknown }) {
  const apiError = error instanceof ApiError ? error : null;
  return (
    <div role="alert" className="error">
      <strong>{error instanceof Error ? error.message : String(error)}</strong>
      {apiError?.advice && <span> {apiError.advice}</span>}
    </div>
  );
}

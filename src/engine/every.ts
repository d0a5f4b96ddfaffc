/**
 * Calls `beat` every `periodMs` counted from `since`, at once if a period has already passed: a
 * claim whose commit waited on locks or a loaded machine started its step with much of its
 * lease spent, and a heartbeat a whole period after the start came after a sweep had taken the
 * step back and run it again (test/step-lifecycle). Returns what stops it.
 */
export function every(periodMs: number, since: number, beat: () => void): () => void {
  let interval: ReturnType<typeof setInterval> | undefined;
  const first = setTimeout(
    () => {
      beat();
      interval = setInterval(beat, periodMs);
    },
    Math.max(0, since + periodMs - Date.now()),
  );
  return () => {
    clearTimeout(first);
    clearInterval(interval);
  };
}

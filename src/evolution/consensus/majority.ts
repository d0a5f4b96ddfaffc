/*
 * Counting votes (issue 12): which voters' answers say the same thing, and which one the
 * majority chose. Pure functions: no model, no graph.
 */

/** A voter's answer as the count sees it. */
export interface Ballot {
  content: string;
  /** The voter's name: an answer that only differs by naming its author is the same answer. */
  author: string;
}

export interface Count {
  /** Per ballot: how many ballots (itself included) say the same after normalisation. */
  votes: number[];
  /** The chosen ballot's index: the first ballot of the winning group. */
  chosen: number;
  /** More than one distinct answer shared the top count. */
  tie: boolean;
  /** One sentence for people: the count and, on a tie, how it was broken. */
  reason: string;
}

/**
 * The text two answers are compared by: lower case, the author's own name left out (a
 * signature, "I, Ada, found..."), punctuation and spacing ignored.
 */
export function normaliseAnswer(content: string, author: string): string {
  let text = content.toLowerCase();
  const name = author.trim().toLowerCase();
  // Whole words only: a voter named "E" must not lose every "e" of its answer.
  if (name) {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    text = text.replace(new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'gu'), ' ');
  }
  return text
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .replace(/\s+/g, ' ');
}

/** Word-set overlap of two normalised texts, 0..1 (1 for two empty texts). */
export function similarity(a: string, b: string): number {
  const x = new Set(a.split(' ').filter(Boolean));
  const y = new Set(b.split(' ').filter(Boolean));
  if (x.size === 0 && y.size === 0) return 1;
  let shared = 0;
  for (const w of x) if (y.has(w)) shared += 1;
  return shared / (x.size + y.size - shared);
}

/**
 * Groups equal answers and picks the largest group. A tie goes to the group whose answer is
 * closest to all answers (summed word overlap: the most central view), then to the earliest
 * voter, so the same ballots always give the same decision.
 */
export function countVotes(ballots: readonly Ballot[]): Count {
  if (ballots.length === 0) throw new Error('countVotes needs at least one ballot');
  const texts = ballots.map((b) => normaliseAnswer(b.content, b.author));
  const groupOf = texts.map((t) => texts.indexOf(t));
  const votes = groupOf.map((g) => groupOf.filter((h) => h === g).length);
  const top = Math.max(...votes);
  const leaders = [...new Set(groupOf.filter((g) => votes[g] === top))];
  const n = ballots.length;
  if (leaders.length === 1) {
    const chosen = leaders[0]!;
    return {
      votes,
      chosen,
      tie: false,
      reason: `${top} of ${n} voters gave the same answer (${ballots[chosen]!.author}'s first)`,
    };
  }
  const centrality = (i: number) => texts.reduce((sum, t) => sum + similarity(texts[i]!, t), 0);
  const ranked = leaders
    .map((i) => ({ i, c: centrality(i) }))
    .sort((a, b) => b.c - a.c || a.i - b.i);
  const chosen = ranked[0]!.i;
  const byCentrality = ranked[0]!.c > ranked[1]!.c + 1e-9;
  const how = byCentrality
    ? `chose ${ballots[chosen]!.author}'s, the answer closest to all ${n} answers`
    : `chose the earliest voter's (${ballots[chosen]!.author})`;
  return {
    votes,
    chosen,
    tie: true,
    reason: `tie: ${leaders.length} different answers had ${top} of ${n} votes each; ${how}`,
  };
}

/**
 * A spawned Master Operator's instructions (issue 12): its specialty, why it exists, and the
 * capability's ACTIVE lessons and skills it starts with (seeded into its instructions, so every
 * prompt it runs carries them, and a later version can revise them).
 */
export function spawnInstructions(
  capability: string,
  reason: string,
  seeds: readonly { kind: string; content: string }[],
): string {
  const learned = seeds.length
    ? `\nWhat the organisation learned about ${capability}:\n${seeds.map((s) => `- ${s.kind}: ${s.content}`).join('\n')}`
    : '';
  return `You are a Master Operator specialised in ${capability}, spawned because ${reason}. Do the ${capability} steps you are given carefully and report what you produced.${learned}`;
}

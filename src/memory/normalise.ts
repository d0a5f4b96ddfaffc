/**
 * Legal-form words that do not tell two organisations apart: "Acme Corp." and "ACME
 * Corporation" are one name, "Acme Bank" is another ("bank" is not here).
 */
const LEGAL_FORMS = new Set([
  'inc',
  'incorporated',
  'corp',
  'corporation',
  'co',
  'company',
  'ltd',
  'limited',
  'llc',
  'plc',
  'gmbh',
  'ag',
  'sa',
  'sas',
  'srl',
  'bv',
  'nv',
  'pty',
  'the',
]);

/**
 * The name exact-match resolution compares: lower case, accents and punctuation gone, legal
 * forms dropped, spaces collapsed. A name that is nothing but legal forms keeps its words.
 */
export function normaliseName(name: string): string {
  const words = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .split(' ')
    .filter(Boolean);
  const kept = words.filter((w) => !LEGAL_FORMS.has(w));
  return (kept.length > 0 ? kept : words).join(' ');
}

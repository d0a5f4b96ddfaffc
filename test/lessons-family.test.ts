import { describe, expect, it } from 'vitest';
import { familyOf, givenFamily } from '../src/domain/family.js';

describe('task families', () => {
  it('derive a family from the first four significant words of a title', () => {
    expect(familyOf('Write the Q3 report for "ACME Corp" by Friday')).toBe('write-report-friday');
    expect(familyOf('Ship order 4711 to Berlin')).toBe('ship-order-berlin');
    expect(familyOf('Ship order 815 to Berlin')).toBe(familyOf('Ship order 4711 to Berlin'));
    expect(familyOf('Plan a trip to Lisbon, Porto, Faro and Braga')).toBe('plan-trip-lisbon-porto');
  });

  it('leave out ids, quoted text and stop words, but keep words with an apostrophe', () => {
    expect(familyOf("Check task 3f2a9c1e-0000-4000-8000-000000000000 for 'Bob'")).toBe(
      'check-task',
    );
    expect(familyOf("Don't ship the parcel")).toBe('don-ship-parcel');
  });

  it('give no family to a title without a significant word', () => {
    expect(familyOf('42')).toBeNull();
    expect(familyOf('the and of')).toBeNull();
  });

  it('normalise a given family and refuse one without letters or digits', () => {
    expect(givenFamily('  Weekly Report ')).toBe('weekly-report');
    expect(givenFamily('')).toBeNull();
    expect(givenFamily(null)).toBeNull();
    expect(() => givenFamily('---')).toThrow(/family must hold letters or digits/);
    expect(() => givenFamily('x'.repeat(81))).toThrow(/at most 80 characters, but got 81/);
  });
});

/**
 * The families `npm run bench:evolution` runs with a real model (BENCH_REAL=1, or automatically
 * when LLM_PROVIDER/a key is configured): small tasks whose answers can be checked by
 * arithmetic, each with a hidden convention the model cannot guess from the task (the unit, VAT,
 * the duration's unit). A result meets the rule when it states the right number in the right
 * form. There is no simulated skill or luck here: the real model's own answers decide.
 */
import type { EnvParams, Family, TaskSpec } from './evolution-env.js';

const CUSTOMERS = ['Alder Ltd', 'Birch & Co', 'Cedar Farms', 'Dune Bakery', 'Elm Studio'];

/** Small whole numbers of an instance, deterministic. */
const parcels = (n: number) => ({ count: 2 + (n % 4), lb: 3 + ((n * 7) % 9) });
const order = (n: number) => ({ qty: 3 + (n % 5), price: 12 + ((n * 11) % 30) });
const workshop = (n: number) => ({ endH: 10 + (n % 3), endM: [0, 20, 40][n % 3]! });

/** Every number in the text that the pattern's unit follows, e.g. "20.4 kg" -> 20.4. */
function numbersBefore(text: string, unit: RegExp): number[] {
  const re = new RegExp(`(\\d[\\d,]*(?:\\.\\d+)?)\\s*(?:${unit.source})`, 'gi');
  return [...text.matchAll(re)].map((m) => Number(m[1]!.replace(/,/g, '')));
}

const near = (xs: number[], want: number, tolerance: number) =>
  xs.some((x) => Math.abs(x - want) <= tolerance);

const totalLb = (s: TaskSpec) => parcels(s.n).count * parcels(s.n).lb;

export const REAL_FAMILIES: readonly Family[] = Object.freeze([
  {
    name: 'parcel-weight',
    kind: 'unit',
    family: 'parcel-weight-order',
    title: (n) => `Parcel weight for order ${5100 + n}`,
    description: (n) =>
      `Order ${5100 + n} has ${parcels(n).count} parcels of ${parcels(n).lb} lb each. Work out the total weight, then write one line for the customer.`,
    rule: {
      required: [],
      forbidden: [],
      feedback: 'Give the total weight in kg, to one decimal (1 lb = 0.4536 kg).',
      check: (text, s) => near(numbersBefore(text, /kg\b|kilograms?/), totalLb(s) * 0.45359, 0.15),
    },
    shifted: {
      required: [],
      forbidden: [],
      feedback: 'Our carrier changed. Give the total weight in grams now (1 lb = 453.6 g).',
      check: (text, s) =>
        near(numbersBefore(text, /g\b|grams?/), totalLb(s) * 453.59, totalLb(s) * 453.59 * 0.01),
    },
  },
  {
    name: 'invoice',
    kind: 'required-section',
    family: 'invoice-total',
    title: (n) => `Invoice total for ${CUSTOMERS[n % CUSTOMERS.length]}`,
    description: (n) =>
      `${CUSTOMERS[n % CUSTOMERS.length]} bought ${order(n).qty} items at ${order(n).price} EUR each. Work out the amount to bill, then write the billing line.`,
    rule: {
      required: [],
      forbidden: [],
      feedback: 'Amounts to bill must include 20% VAT.',
      check: (text, s) =>
        near(numbersBefore(text, /EUR|€|euros?/), order(s.n).qty * order(s.n).price * 1.2, 0.02) ||
        near(
          [...text.matchAll(/€\s*(\d[\d,]*(?:\.\d+)?)/g)].map((m) =>
            Number(m[1]!.replace(/,/g, '')),
          ),
          order(s.n).qty * order(s.n).price * 1.2,
          0.02,
        ),
    },
  },
  {
    name: 'workshop',
    kind: 'unit',
    family: 'workshop-length',
    title: (n) => `Workshop length for team ${n % 7}`,
    description: (n) =>
      `The workshop of team ${n % 7} runs from 9:15 to ${workshop(n).endH}:${String(workshop(n).endM).padStart(2, '0')}. Work out how long it lasts, then write the calendar note.`,
    rule: {
      required: [],
      forbidden: [],
      feedback: 'Give every duration in minutes only.',
      check: (text, s) =>
        near(
          numbersBefore(text, /min\b|minutes?/),
          workshop(s.n).endH * 60 + workshop(s.n).endM - (9 * 60 + 15),
          0,
        ),
    },
  },
]);

/** With a real model nothing is simulated: no hidden skill, no luck, no flips. */
export const REAL_ENV: Readonly<Omit<EnvParams, 'seed' | 'shiftRound'>> = Object.freeze({
  families: REAL_FAMILIES.length,
  luckyPass: 0,
  flip: 0,
  skillLow: 1,
  skillHigh: 1,
});

import neo4j from 'neo4j-driver';
import { AppError } from '../src/domain/errors.js';
import {
  parseDateTimeText,
  type EncodedProperties,
  type EncodedScalar,
  type EncodedValue,
} from '../src/domain/organisation-export.js';
import type { NodeRow, RawProperty } from './organisation.repository.js';

/** Values between Neo4j and the organisation document's encoding (export and import). */

/** A stored value the format has no encoding for (e.g. DATE, DURATION, POINT). */
export class UnsupportedValueError extends AppError {
  constructor(message: string) {
    super('EXPORT_UNSUPPORTED_VALUE', message);
  }
}

export function encodeProperties(where: string, props: RawProperty[]): EncodedProperties {
  const out: EncodedProperties = {};
  for (const p of props) out[p.key] = encodeValue(`${where}.${p.key}`, p.type, p.value);
  return out;
}

/**
 * Encodes one value by its valueType(): "INTEGER NOT NULL" -> {"$int": n},
 * "ZONED DATETIME NOT NULL" (already text) -> {"$datetime": text}, lists element by element.
 */
export function encodeValue(where: string, type: string, value: unknown): EncodedValue {
  const list = /^LIST<(.*)> NOT NULL$/.exec(type);
  if (list) {
    if (!Array.isArray(value)) throw new UnsupportedValueError(`${where}: expected a list`);
    const element = list[1]!;
    if (element === 'NOTHING') return [];
    return value.map((v) => encodeScalar(where, element, v));
  }
  return encodeScalar(where, type, value);
}

function encodeScalar(where: string, type: string, value: unknown): EncodedScalar {
  switch (type.replace(/ NOT NULL$/, '')) {
    case 'STRING':
      return String(value);
    case 'BOOLEAN':
      return Boolean(value);
    case 'INTEGER':
      if (!Number.isSafeInteger(value)) {
        throw new UnsupportedValueError(`${where}: the integer ${value} is beyond 2^53`);
      }
      return { $int: value as number };
    case 'FLOAT': {
      const n = value as number;
      if (Number.isFinite(n)) return n;
      return { $float: Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity' };
    }
    case 'ZONED DATETIME':
      return { $datetime: String(value) };
    default:
      throw new UnsupportedValueError(
        `${where} has type ${type}, which the organisation format cannot carry yet`,
      );
  }
}

export function driverRow(row: NodeRow) {
  return { id: row.id, properties: driverProperties(row.properties) };
}

export function driverProperties(props: EncodedProperties): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(props)) out[key] = toDriverValue(value);
  return out;
}

/**
 * Decodes a (validated) value for the driver: integers as neo4j.int, because a JS number
 * travels as FLOAT; datetimes as driver DateTime values built from the exact text.
 */
export function toDriverValue(value: EncodedValue): unknown {
  if (Array.isArray(value)) return value.map(toDriverScalar);
  return toDriverScalar(value);
}

function toDriverScalar(value: EncodedScalar): unknown {
  if (typeof value !== 'object') return value;
  if ('$int' in value) return neo4j.int(value.$int);
  if ('$float' in value) return Number(value.$float);
  const p = parseDateTimeText(value.$datetime);
  if (!p) throw new Error(`Not a date-time: ${value.$datetime}`);
  return new neo4j.types.DateTime(
    p.year,
    p.month,
    p.day,
    p.hour,
    p.minute,
    p.second,
    p.nanosecond,
    p.offsetSeconds,
    p.zoneId,
  );
}

/**
 * Value formats of the DICOM VRs the SEG writer produces (PS3.5 §6.2): decimal strings that fit 16
 * characters, dates and times, UUID-derived UIDs, and checks for the text Voxgate accepts from
 * callers (names, person names, code strings).
 * @module
 */
import { randomUUID } from 'node:crypto';
import { VoxgateError } from '../errors.js';

/**
 * A UID under the 2.25 arc from a random UUID (PS3.5 §B.2: the UUID's 128 bits as one decimal
 * integer), at most 44 characters.
 * @example
 * uuidUid(); // '2.25.329800735698586629295641978511506172918'
 */
export function uuidUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString(10)}`;
}

const UID_PATTERN = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;

/** True for a UID of at most 64 characters: dot-separated numbers without leading zeros (PS3.5 §9.1). */
export function isUid(value: string): boolean {
  return value.length <= 64 && UID_PATTERN.test(value);
}

/**
 * A DS (decimal string) of at most 16 characters for `value`: the shortest exact form when it fits,
 * else the most significant digits that do.
 * @example
 * formatDS(0.1 + 0.2); // '0.3'  (not '0.30000000000000004', 19 characters)
 */
export function formatDS(value: number): string {
  if (!Number.isFinite(value)) throw new VoxgateError('VXG_ERR_SEG_INVALID_OPTION', `${value} cannot be written as a DICOM decimal string.`);
  if (value === 0) return '0'; // also -0
  const exact = String(value);
  if (exact.length <= 16) return exact;
  for (let digits = 15; digits >= 1; digits--) {
    const s = trimZeros(value.toPrecision(digits));
    if (s.length <= 16) return s;
  }
  throw new VoxgateError('VXG_ERR_SEG_INVALID_OPTION', `${value} cannot be written in 16 characters.`);
}

function trimZeros(s: string): string {
  // '1.2300000e+21' → '1.23e+21', '12.500' → '12.5'; integers are left alone.
  const [mantissa, exponent] = s.split('e');
  const m = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
  return exponent === undefined ? m : `${m}e${exponent}`;
}

/** DA (YYYYMMDD) of a date, in local time as DICOM dates are. */
export function formatDA(date: Date): string {
  return `${date.getFullYear()}${pad2(date.getMonth() + 1)}${pad2(date.getDate())}`;
}

/** TM (HHMMSS) of a date, in local time. */
export function formatTM(date: Date): string {
  return `${pad2(date.getHours())}${pad2(date.getMinutes())}${pad2(date.getSeconds())}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

// PS3.5 §6.1.3: control characters other than ESC are not allowed in single-line text.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001a\u001c-\u001f\u007f]/;

/**
 * Checks a value of a single-line text VR (LO, SH, LT's shorter cousins): no backslash (the value
 * separator), no control characters, at most `max` characters. Throws VXG_ERR_SEG_INVALID_OPTION.
 */
export function checkText(what: string, value: string, max: number): string {
  if (value.length > max) throw invalid(what, value, `is ${value.length} characters long, more than the ${max} DICOM allows`);
  if (value.includes('\\')) throw invalid(what, value, 'contains a backslash, the DICOM value separator');
  if (CONTROL.test(value)) throw invalid(what, value, 'contains a control character');
  return value;
}

/**
 * Checks a code string (CS): upper-case letters, digits, space and underscore, at most 16 characters.
 * @example
 * checkCodeString('ContentLabel', 'SEGMENTATION');
 */
export function checkCodeString(what: string, value: string): string {
  if (!/^[A-Z0-9 _]{1,16}$/.test(value)) throw invalid(what, value, 'is not a DICOM code string (1–16 of A–Z, 0–9, space, underscore)');
  return value;
}

/**
 * Checks a person name (PN, PS3.5 §6.2.1): up to three component groups (`=`), each up to five
 * components (`^`) and 64 characters, no backslash or control characters.
 * @example
 * checkPersonName('ContentCreatorName', 'Voxgate^Engine');
 */
export function checkPersonName(what: string, value: string): string {
  const groups = value.split('=');
  if (groups.length > 3) throw invalid(what, value, 'has more than three component groups');
  for (const group of groups) {
    if (group.length > 64) throw invalid(what, value, 'has a component group longer than 64 characters');
    if (group.split('^').length > 5) throw invalid(what, value, 'has more than five components');
  }
  if (value.includes('\\') || CONTROL.test(value)) throw invalid(what, value, 'contains a backslash or control character');
  return value;
}

function invalid(what: string, value: string, why: string): VoxgateError {
  const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return new VoxgateError('VXG_ERR_SEG_INVALID_OPTION', `${what} ${JSON.stringify(shown)} ${why}.`);
}

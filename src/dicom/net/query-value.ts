/**
 * Checks on values that go into DICOM queries and associations.
 * @module
 */

/** True when `value` has a control character (C0 or DEL). */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * True when `value` can only match itself: QIDO-RS and C-FIND treat `*` and `?` as wildcards and
 * `\` as a value separator (PS3.4 C.2.2.2), with no escape, so a PatientID of `*` would match every
 * patient. Also non-empty, at most 64 characters (LO), no control characters.
 */
export function isExactValue(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '' && value.length <= 64 && !/[*?\\]/.test(value) && !hasControlCharacter(value);
}

/**
 * DIMSE status words (PS3.7 Annex C) and association rejections (PS3.8 §9.3.4) as Voxgate reads
 * them: which are failures, which may pass if tried again, and the words for messages.
 * @module
 */

/** Status classes, PS3.7 Annex C.1. */
export type StatusKind = 'success' | 'pending' | 'cancel' | 'warning' | 'failure';

export function statusKind(status: number): StatusKind {
  if (status === 0x0000) return 'success';
  if (status === 0xff00 || status === 0xff01) return 'pending';
  if (status === 0xfe00) return 'cancel';
  if (status === 0x0001 || status === 0x0107 || status === 0x0116 || (status >= 0xb000 && status <= 0xbfff)) return 'warning';
  return 'failure';
}

/** Out of resources (A7xx, PS3.4 C.4) and resource limitation (0213): another try may pass. */
export function isTransientStatus(status: number): boolean {
  return (status >= 0xa700 && status <= 0xa7ff) || status === 0x0213;
}

const STATUS_WORDS: Record<number, string> = {
  0x0110: 'processing failure',
  0x0122: 'SOP class not supported',
  0x0124: 'not authorized',
  0x0211: 'unrecognized operation',
  0x0213: 'resource limitation',
  0xa700: 'out of resources',
  0xa701: 'out of resources: unable to calculate the number of matches',
  0xa702: 'out of resources: unable to perform sub-operations',
  0xa801: 'move destination unknown',
  0xa900: 'identifier does not match SOP class',
  0xb000: 'sub-operations complete, one or more failures or warnings',
  0xc000: 'unable to process',
  0xfe00: 'cancelled',
};

/** `0xA801 (move destination unknown)`. */
export function describeStatus(status: number): string {
  const hex = `0x${status.toString(16).toUpperCase().padStart(4, '0')}`;
  const words = STATUS_WORDS[status] ?? (status >= 0xa700 && status <= 0xa7ff ? 'out of resources' : status >= 0xc000 && status <= 0xcfff ? 'unable to process' : undefined);
  return words ? `${hex} (${words})` : hex;
}

/** PS3.8 Table 9-21: result 1 permanent, 2 transient. */
export function isTransientRejection(result: number): boolean {
  return result === 2;
}

/** The words of an A-ASSOCIATE-RJ's source and reason (PS3.8 Table 9-21). */
export function describeRejection(result: number, source: number, reason: number): string {
  const kind = result === 2 ? 'transient' : 'permanent';
  let words: string;
  if (source === 1) {
    words = { 1: 'no reason given', 2: 'application context name not supported', 3: 'calling AE title not recognized', 7: 'called AE title not recognized' }[reason] ?? `reason ${reason}`;
    words = `by the service user: ${words}`;
  } else if (source === 2) {
    words = `by the ACSE provider: ${{ 1: 'no reason given', 2: 'protocol version not supported' }[reason] ?? `reason ${reason}`}`;
  } else {
    words = `by the presentation provider: ${{ 1: 'temporary congestion', 2: 'local limit exceeded' }[reason] ?? `reason ${reason}`}`;
  }
  return `${kind}, ${words}`;
}

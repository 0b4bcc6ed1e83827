/** A participant's read position. */
export interface ReadPosition {
  userId: string;
  lastReadSeq: number;
}

/** A person as the client names them. */
export interface Person {
  id: string;
  username: string;
  displayName: string;
}

/** The name the client shows for a person: the display name, else the username. */
export const nameOf = (p: Pick<Person, 'username' | 'displayName'>): string => p.displayName || p.username;

/**
 * Who has read the viewer's newest message of a conversation: the other participants whose read
 * position is at or past its seq, in participant order. Empty when the viewer has sent nothing.
 * @param lastOwnSeq - seq of the viewer's newest confirmed message (0 when none)
 */
export function seenBy(
  lastOwnSeq: number,
  receipts: readonly ReadPosition[],
  participants: readonly Person[],
  viewerId: string,
): Person[] {
  if (lastOwnSeq <= 0) return [];
  const read = new Map(receipts.map((r) => [r.userId, r.lastReadSeq]));
  return participants.filter((p) => p.id !== viewerId && (read.get(p.id) ?? 0) >= lastOwnSeq);
}

/** "Seen by A", "Seen by A and B", "Seen by A, B and C"; empty when nobody. */
export function seenByLabel(people: readonly Person[]): string {
  const names = people.map(nameOf);
  if (names.length === 0) return '';
  if (names.length === 1) return `Seen by ${names[0]}`;
  return `Seen by ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** Merges a read position into a list: one entry per user, a position never moves back. */
export function mergeReceipt<R extends ReadPosition>(receipts: readonly R[], r: R): R[] {
  const i = receipts.findIndex((x) => x.userId === r.userId);
  if (i < 0) return [...receipts, r];
  if (receipts[i].lastReadSeq >= r.lastReadSeq) return receipts as R[];
  const next = receipts.slice();
  next[i] = r;
  return next;
}

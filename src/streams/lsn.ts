/** WAL positions ("16/B374D848") as bigints, for comparing and for the acknowledgement arithmetic. */
export function parseLsn(lsn: string): bigint {
  const [high, low] = lsn.split("/");
  if (low === undefined) throw new Error(`not an LSN: ${lsn}`);
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

export function formatLsn(value: bigint): string {
  return `${(value >> 32n).toString(16).toUpperCase()}/${(value & 0xffffffffn).toString(16).toUpperCase()}`;
}

/**
 * What to pass to pg-logical-replication's `acknowledge` so the server confirms everything before
 * `position`: the library sends `lsn + 1`, and confirming past a commit's end could skip a
 * transaction whose commit record starts exactly there.
 */
export function acknowledgementFor(position: bigint): string {
  return formatLsn(position > 0n ? position - 1n : 0n);
}

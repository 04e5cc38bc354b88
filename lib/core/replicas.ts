/**
 * Replica discovery from the master's INFO (Sentinel §1.8: the `slaveN:` lines).
 */
import type { Address, ReplicaRecord, ReplicationInfo } from './types.js';

/** The addresses of recorded replicas, without the rest of their records. */
export function replicaAddresses(records: readonly ReplicaRecord[]): Address[] {
  return records.map((r) => ({ host: r.host, port: r.port }));
}

/** Replicas the master reports that this sentinel does not know yet, in the order reported. */
export function newlyReportedReplicas(known: readonly Address[], masterInfo: ReplicationInfo): Address[] {
  const seen = new Set(known.map((a) => `${a.host}:${a.port}`));
  const found: Address[] = [];
  for (const replica of masterInfo.connectedReplicas) {
    const key = `${replica.host}:${replica.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    found.push({ host: replica.host, port: replica.port });
  }
  return found;
}

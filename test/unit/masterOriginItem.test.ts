/**
 * The master record's origin in a DynamoDB item (lib/adapters/dynamodb/schema.ts): written and read back
 * exactly, absent in items written before it existed (read as null, which lib/core/authBinding.ts
 * treats as seeded from the file when the file lists the name), and refused when malformed, since it
 * decides where a password may be sent.
 */
import { describe, expect, it } from 'vitest';
import { ATTR, masterFromItem, masterToItem } from '../../lib/adapters/dynamodb/schema.js';
import { newMasterRecord } from '../../lib/core/records.js';
import { StoreUnavailableError } from '../../lib/ports.js';

const seeded = newMasterRecord({ name: 'mymaster', host: '10.0.0.1', port: 6379, now: 1 }, 'config');

describe('master item origin', () => {
  it('round-trips both sources', () => {
    expect(masterFromItem(masterToItem(seeded))).toEqual(seeded);
    const monitored = newMasterRecord({ name: 'added', host: '::1', port: 7000, now: 1 }, 'monitor');
    expect(masterFromItem(masterToItem(monitored)).origin).toEqual({
      source: 'monitor',
      host: '::1',
      port: 7000,
    });
  });

  it('reads an item written before origins existed as origin null', () => {
    const { [ATTR.origin]: _, ...legacy } = masterToItem(seeded);
    expect(masterFromItem(legacy)).toEqual({ ...seeded, origin: null });
    expect(masterFromItem({ ...legacy, [ATTR.origin]: null }).origin).toBeNull();
  });

  it('refuses a malformed origin with an error naming the attribute', () => {
    for (const bad of [
      'not json',
      '{"source":"file","host":"10.0.0.1","port":6379}',
      '{"source":"monitor","host":"10.0.0.1"}',
      '{"source":"monitor","host":1,"port":6379}',
      '[]',
      7,
    ]) {
      const item = { ...masterToItem(seeded), [ATTR.origin]: bad };
      expect(() => masterFromItem(item), String(bad)).toThrow(StoreUnavailableError);
      expect(() => masterFromItem(item), String(bad)).toThrow(/attribute "origin" should be/);
    }
  });
});

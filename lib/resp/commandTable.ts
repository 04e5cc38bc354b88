/**
 * Sentinel's command table, as `COMMAND`, `COMMAND INFO` and `COMMAND DOCS` report it: the commands of
 * a `redis-server --sentinel` (7.0.15) that this endpoint answers, in the order Sentinel lists them, with
 * its arity, flags, ACL categories, tips, and documentation. Subcommands this endpoint does not answer
 * (ACL SETUSER, CLIENT PAUSE, COMMAND GETKEYS…) are left out, so a tool never learns of a command that
 * would then be refused. QUIT and RESET run here but are not in Sentinel 7.0's table, so they are not
 * listed either (COMMAND COUNT is Sentinel's 15).
 *
 * The data is written as RESP3 replies (`WireValue`): a string is a bulk string, a number an integer,
 * `['+', s]` a simple string, `['*', …]` an array, `['~', …]` a set, `['%', …]` a map. RESP2 clients get
 * the same with sets as arrays and maps flattened (encoder.ts). The ACL categories are Sentinel's
 * (`@admin`…): what a tool expects to read. Who may run a command here is decided by lib/core/acl.ts.
 */
import { array, bulk, integer, map, nullBulk, type Reply, set, simple } from './encoder.js';

export type WireValue =
  | string
  | number
  | null
  | readonly ['+', string]
  | readonly ['*' | '~', readonly WireValue[]]
  | readonly ['%', ReadonlyArray<readonly [WireValue, WireValue]>];

export interface CommandMeta {
  /** Lower case, as COMMAND LIST names it. */
  readonly name: string;
  /** Its COMMAND INFO entry. */
  readonly info: WireValue;
  /** Its COMMAND DOCS value (the map after its name). */
  readonly docs: WireValue;
}

export function wireReply(value: WireValue): Reply {
  if (value === null) return nullBulk;
  if (typeof value === 'string') return bulk(value);
  if (typeof value === 'number') return integer(value);
  switch (value[0]) {
    case '+':
      return simple(value[1]);
    case '*':
      return array(value[1].map(wireReply));
    case '~':
      return set(value[1].map(wireReply));
    case '%':
      return map(value[1].map(([k, v]) => [wireReply(k), wireReply(v)] as const));
  }
}

type WireArray = readonly ['*' | '~', readonly WireValue[]];
type WireMap = readonly ['%', ReadonlyArray<readonly [WireValue, WireValue]>];

const items = (value: WireValue | undefined): readonly WireValue[] =>
  Array.isArray(value) && (value[0] === '*' || value[0] === '~') ? (value as WireArray)[1] : [];
const entries = (value: WireValue | undefined): ReadonlyArray<readonly [WireValue, WireValue]> =>
  Array.isArray(value) && value[0] === '%' ? (value as WireMap)[1] : [];

/** COMMAND INFO entry positions (Redis 7): name, arity, flags, first key, last key, step, ACL categories, tips, key specs, subcommands. */
const INFO_CATEGORIES = 6;
const INFO_SUBCOMMANDS = 9;

/** The full names of a command's subcommands (`sentinel|myid`…), in its table's order. */
export function subcommandNames(info: WireValue): string[] {
  return items(items(info)[INFO_SUBCOMMANDS]).map((sub) => String(items(sub)[0]));
}

/** A subcommand's COMMAND INFO entry, or null. */
export function subcommandInfo(info: WireValue, fullName: string): WireValue | null {
  return items(items(info)[INFO_SUBCOMMANDS]).find((sub) => items(sub)[0] === fullName) ?? null;
}

/** A subcommand's COMMAND DOCS value, or null. */
export function subcommandDocs(docs: WireValue, fullName: string): WireValue | null {
  const subs = entries(docs).find(([key]) => key === 'subcommands')?.[1];
  return entries(subs).find(([key]) => key === fullName)?.[1] ?? null;
}

/** The command and subcommand names in ACL category `category` (`admin`, without the @), as COMMAND LIST FILTERBY ACLCAT lists them. */
export function withCategory(info: WireValue, category: string): string[] {
  const has = (entry: WireValue) =>
    items(items(entry)[INFO_CATEGORIES]).some((c) => Array.isArray(c) && c[1] === `@${category}`);
  return [info, ...items(items(info)[INFO_SUBCOMMANDS])].filter(has).map((e) => String(items(e)[0]));
}

export const SENTINEL_COMMAND_TABLE: readonly CommandMeta[] = [
  {
    name: 'acl',
    info: [
      '*',
      [
        'acl',
        -2,
        ['~', []],
        0,
        0,
        0,
        ['~', [['+', '@slow']]],
        ['~', []],
        ['~', []],
        [
          '*',
          [
            [
              '*',
              [
                'acl|help',
                2,
                [
                  '~',
                  [
                    ['+', 'loading'],
                    ['+', 'stale'],
                  ],
                ],
                0,
                0,
                0,
                ['~', [['+', '@slow']]],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'acl|whoami',
                2,
                [
                  '~',
                  [
                    ['+', 'noscript'],
                    ['+', 'loading'],
                    ['+', 'stale'],
                  ],
                ],
                0,
                0,
                0,
                ['~', [['+', '@slow']]],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
          ],
        ],
      ],
    ],
    docs: [
      '%',
      [
        ['summary', 'A container for Access List Control commands '],
        ['since', '6.0.0'],
        ['group', 'server'],
        ['complexity', 'Depends on subcommand.'],
        [
          'subcommands',
          [
            '%',
            [
              [
                'acl|help',
                [
                  '%',
                  [
                    ['summary', 'Show helpful text about the different subcommands'],
                    ['since', '6.0.0'],
                    ['group', 'server'],
                    ['complexity', 'O(1)'],
                  ],
                ],
              ],
              [
                'acl|whoami',
                [
                  '%',
                  [
                    ['summary', 'Return the name of the user associated to the current connection'],
                    ['since', '6.0.0'],
                    ['group', 'server'],
                    ['complexity', 'O(1)'],
                  ],
                ],
              ],
            ],
          ],
        ],
      ],
    ],
  },
  {
    name: 'client',
    info: [
      '*',
      [
        'client',
        -2,
        ['~', []],
        0,
        0,
        0,
        ['~', [['+', '@slow']]],
        ['~', []],
        ['~', []],
        [
          '*',
          [
            [
              '*',
              [
                'client|help',
                2,
                [
                  '~',
                  [
                    ['+', 'loading'],
                    ['+', 'stale'],
                  ],
                ],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@slow'],
                    ['+', '@connection'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'client|id',
                2,
                [
                  '~',
                  [
                    ['+', 'noscript'],
                    ['+', 'loading'],
                    ['+', 'stale'],
                  ],
                ],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@slow'],
                    ['+', '@connection'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'client|list',
                -2,
                [
                  '~',
                  [
                    ['+', 'admin'],
                    ['+', 'noscript'],
                    ['+', 'loading'],
                    ['+', 'stale'],
                  ],
                ],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                    ['+', '@connection'],
                  ],
                ],
                ['~', ['nondeterministic_output']],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'client|setname',
                3,
                [
                  '~',
                  [
                    ['+', 'noscript'],
                    ['+', 'loading'],
                    ['+', 'stale'],
                  ],
                ],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@slow'],
                    ['+', '@connection'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'client|info',
                2,
                [
                  '~',
                  [
                    ['+', 'noscript'],
                    ['+', 'loading'],
                    ['+', 'stale'],
                  ],
                ],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@slow'],
                    ['+', '@connection'],
                  ],
                ],
                ['~', ['nondeterministic_output']],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'client|getname',
                2,
                [
                  '~',
                  [
                    ['+', 'noscript'],
                    ['+', 'loading'],
                    ['+', 'stale'],
                  ],
                ],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@slow'],
                    ['+', '@connection'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'client|kill',
                -3,
                [
                  '~',
                  [
                    ['+', 'admin'],
                    ['+', 'noscript'],
                    ['+', 'loading'],
                    ['+', 'stale'],
                  ],
                ],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                    ['+', '@connection'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
          ],
        ],
      ],
    ],
    docs: [
      '%',
      [
        ['summary', 'A container for client connection commands'],
        ['since', '2.4.0'],
        ['group', 'connection'],
        ['complexity', 'Depends on subcommand.'],
        [
          'subcommands',
          [
            '%',
            [
              [
                'client|help',
                [
                  '%',
                  [
                    ['summary', 'Show helpful text about the different subcommands'],
                    ['since', '5.0.0'],
                    ['group', 'connection'],
                    ['complexity', 'O(1)'],
                  ],
                ],
              ],
              [
                'client|id',
                [
                  '%',
                  [
                    ['summary', 'Returns the client ID for the current connection'],
                    ['since', '5.0.0'],
                    ['group', 'connection'],
                    ['complexity', 'O(1)'],
                  ],
                ],
              ],
              [
                'client|list',
                [
                  '%',
                  [
                    ['summary', 'Get the list of client connections'],
                    ['since', '2.4.0'],
                    ['group', 'connection'],
                    ['complexity', 'O(N) where N is the number of client connections'],
                    [
                      'history',
                      [
                        '~',
                        [
                          ['*', ['2.8.12', 'Added unique client `id` field.']],
                          ['*', ['5.0.0', 'Added optional `TYPE` filter.']],
                          ['*', ['6.0.0', 'Added `user` field.']],
                          [
                            '*',
                            [
                              '6.2.0',
                              'Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter.',
                            ],
                          ],
                          ['*', ['7.0.0', 'Added `resp`, `multi-mem`, `rbs` and `rbp` fields.']],
                          ['*', ['7.0.3', 'Added `ssub` field.']],
                        ],
                      ],
                    ],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'normal_master_replica_pubsub'],
                              ['type', 'oneof'],
                              ['token', 'TYPE'],
                              ['since', '5.0.0'],
                              ['flags', ['~', [['+', 'optional']]]],
                              [
                                'arguments',
                                [
                                  '*',
                                  [
                                    [
                                      '%',
                                      [
                                        ['name', 'normal'],
                                        ['type', 'pure-token'],
                                        ['token', 'NORMAL'],
                                      ],
                                    ],
                                    [
                                      '%',
                                      [
                                        ['name', 'master'],
                                        ['type', 'pure-token'],
                                        ['token', 'MASTER'],
                                      ],
                                    ],
                                    [
                                      '%',
                                      [
                                        ['name', 'replica'],
                                        ['type', 'pure-token'],
                                        ['token', 'REPLICA'],
                                      ],
                                    ],
                                    [
                                      '%',
                                      [
                                        ['name', 'pubsub'],
                                        ['type', 'pure-token'],
                                        ['token', 'PUBSUB'],
                                      ],
                                    ],
                                  ],
                                ],
                              ],
                            ],
                          ],
                          [
                            '%',
                            [
                              ['name', 'id'],
                              ['type', 'block'],
                              ['token', 'ID'],
                              ['since', '6.2.0'],
                              ['flags', ['~', [['+', 'optional']]]],
                              [
                                'arguments',
                                [
                                  '*',
                                  [
                                    [
                                      '%',
                                      [
                                        ['name', 'client-id'],
                                        ['type', 'integer'],
                                        ['flags', ['~', [['+', 'multiple']]]],
                                      ],
                                    ],
                                  ],
                                ],
                              ],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'client|setname',
                [
                  '%',
                  [
                    ['summary', 'Set the current connection name'],
                    ['since', '2.6.9'],
                    ['group', 'connection'],
                    ['complexity', 'O(1)'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'connection-name'],
                              ['type', 'string'],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'client|info',
                [
                  '%',
                  [
                    ['summary', 'Returns information about the current client connection.'],
                    ['since', '6.2.0'],
                    ['group', 'connection'],
                    ['complexity', 'O(1)'],
                  ],
                ],
              ],
              [
                'client|getname',
                [
                  '%',
                  [
                    ['summary', 'Get the current connection name'],
                    ['since', '2.6.9'],
                    ['group', 'connection'],
                    ['complexity', 'O(1)'],
                  ],
                ],
              ],
              [
                'client|kill',
                [
                  '%',
                  [
                    ['summary', 'Kill the connection of a client'],
                    ['since', '2.4.0'],
                    ['group', 'connection'],
                    ['complexity', 'O(N) where N is the number of client connections'],
                    [
                      'history',
                      [
                        '~',
                        [
                          ['*', ['2.8.12', 'Added new filter format.']],
                          ['*', ['2.8.12', '`ID` option.']],
                          ['*', ['3.2.0', 'Added `master` type in for `TYPE` option.']],
                          [
                            '*',
                            [
                              '5.0.0',
                              'Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward compatibility.',
                            ],
                          ],
                          ['*', ['6.2.0', '`LADDR` option.']],
                        ],
                      ],
                    ],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'filter'],
                              ['type', 'oneof'],
                              [
                                'arguments',
                                [
                                  '*',
                                  [
                                    [
                                      '%',
                                      [
                                        ['name', 'ip:port'],
                                        ['type', 'string'],
                                        ['deprecated_since', '2.8.12'],
                                      ],
                                    ],
                                    [
                                      '%',
                                      [
                                        ['name', 'new-format'],
                                        ['type', 'oneof'],
                                        ['flags', ['~', [['+', 'multiple']]]],
                                        [
                                          'arguments',
                                          [
                                            '*',
                                            [
                                              [
                                                '%',
                                                [
                                                  ['name', 'client-id'],
                                                  ['type', 'integer'],
                                                  ['token', 'ID'],
                                                  ['since', '2.8.12'],
                                                  ['flags', ['~', [['+', 'optional']]]],
                                                ],
                                              ],
                                              [
                                                '%',
                                                [
                                                  ['name', 'normal_master_slave_pubsub'],
                                                  ['type', 'oneof'],
                                                  ['token', 'TYPE'],
                                                  ['since', '2.8.12'],
                                                  ['flags', ['~', [['+', 'optional']]]],
                                                  [
                                                    'arguments',
                                                    [
                                                      '*',
                                                      [
                                                        [
                                                          '%',
                                                          [
                                                            ['name', 'normal'],
                                                            ['type', 'pure-token'],
                                                            ['token', 'NORMAL'],
                                                          ],
                                                        ],
                                                        [
                                                          '%',
                                                          [
                                                            ['name', 'master'],
                                                            ['type', 'pure-token'],
                                                            ['token', 'MASTER'],
                                                            ['since', '3.2.0'],
                                                          ],
                                                        ],
                                                        [
                                                          '%',
                                                          [
                                                            ['name', 'slave'],
                                                            ['type', 'pure-token'],
                                                            ['token', 'SLAVE'],
                                                          ],
                                                        ],
                                                        [
                                                          '%',
                                                          [
                                                            ['name', 'replica'],
                                                            ['type', 'pure-token'],
                                                            ['token', 'REPLICA'],
                                                            ['since', '5.0.0'],
                                                          ],
                                                        ],
                                                        [
                                                          '%',
                                                          [
                                                            ['name', 'pubsub'],
                                                            ['type', 'pure-token'],
                                                            ['token', 'PUBSUB'],
                                                          ],
                                                        ],
                                                      ],
                                                    ],
                                                  ],
                                                ],
                                              ],
                                              [
                                                '%',
                                                [
                                                  ['name', 'username'],
                                                  ['type', 'string'],
                                                  ['token', 'USER'],
                                                  ['flags', ['~', [['+', 'optional']]]],
                                                ],
                                              ],
                                              [
                                                '%',
                                                [
                                                  ['name', 'ip:port'],
                                                  ['type', 'string'],
                                                  ['token', 'ADDR'],
                                                  ['flags', ['~', [['+', 'optional']]]],
                                                ],
                                              ],
                                              [
                                                '%',
                                                [
                                                  ['name', 'ip:port'],
                                                  ['type', 'string'],
                                                  ['token', 'LADDR'],
                                                  ['since', '6.2.0'],
                                                  ['flags', ['~', [['+', 'optional']]]],
                                                ],
                                              ],
                                              [
                                                '%',
                                                [
                                                  ['name', 'yes/no'],
                                                  ['type', 'string'],
                                                  ['token', 'SKIPME'],
                                                  ['flags', ['~', [['+', 'optional']]]],
                                                ],
                                              ],
                                            ],
                                          ],
                                        ],
                                      ],
                                    ],
                                  ],
                                ],
                              ],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
            ],
          ],
        ],
      ],
    ],
  },
  {
    name: 'hello',
    info: [
      '*',
      [
        'hello',
        -1,
        [
          '~',
          [
            ['+', 'noscript'],
            ['+', 'loading'],
            ['+', 'stale'],
            ['+', 'fast'],
            ['+', 'no_auth'],
            ['+', 'allow_busy'],
          ],
        ],
        0,
        0,
        0,
        [
          '~',
          [
            ['+', '@fast'],
            ['+', '@connection'],
          ],
        ],
        ['~', []],
        ['~', []],
        ['~', []],
      ],
    ],
    docs: [
      '%',
      [
        ['summary', 'Handshake with Redis'],
        ['since', '6.0.0'],
        ['group', 'connection'],
        ['complexity', 'O(1)'],
        [
          'history',
          [
            '~',
            [
              [
                '*',
                [
                  '6.2.0',
                  "`protover` made optional; when called without arguments the command reports the current connection's context.",
                ],
              ],
            ],
          ],
        ],
        [
          'arguments',
          [
            '*',
            [
              [
                '%',
                [
                  ['name', 'arguments'],
                  ['type', 'block'],
                  ['flags', ['~', [['+', 'optional']]]],
                  [
                    'arguments',
                    [
                      '*',
                      [
                        [
                          '%',
                          [
                            ['name', 'protover'],
                            ['type', 'integer'],
                          ],
                        ],
                        [
                          '%',
                          [
                            ['name', 'username_password'],
                            ['type', 'block'],
                            ['token', 'AUTH'],
                            ['flags', ['~', [['+', 'optional']]]],
                            [
                              'arguments',
                              [
                                '*',
                                [
                                  [
                                    '%',
                                    [
                                      ['name', 'username'],
                                      ['type', 'string'],
                                    ],
                                  ],
                                  [
                                    '%',
                                    [
                                      ['name', 'password'],
                                      ['type', 'string'],
                                    ],
                                  ],
                                ],
                              ],
                            ],
                          ],
                        ],
                        [
                          '%',
                          [
                            ['name', 'clientname'],
                            ['type', 'string'],
                            ['token', 'SETNAME'],
                            ['flags', ['~', [['+', 'optional']]]],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
            ],
          ],
        ],
      ],
    ],
  },
  {
    name: 'sentinel',
    info: [
      '*',
      [
        'sentinel',
        -2,
        ['~', [['+', 'admin']]],
        0,
        0,
        0,
        [
          '~',
          [
            ['+', '@admin'],
            ['+', '@slow'],
            ['+', '@dangerous'],
          ],
        ],
        ['~', []],
        ['~', []],
        [
          '*',
          [
            [
              '*',
              [
                'sentinel|is-master-down-by-addr',
                6,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|monitor',
                6,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|remove',
                3,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|pending-scripts',
                2,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|simulate-failure',
                -3,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|info-cache',
                -3,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|failover',
                3,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|help',
                2,
                [
                  '~',
                  [
                    ['+', 'loading'],
                    ['+', 'stale'],
                  ],
                ],
                0,
                0,
                0,
                ['~', [['+', '@slow']]],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|set',
                -5,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|ckquorum',
                3,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|masters',
                2,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|flushconfig',
                2,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|replicas',
                3,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|config',
                -3,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|master',
                3,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|debug',
                -2,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|slaves',
                3,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|reset',
                3,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|get-master-addr-by-name',
                3,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|myid',
                2,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'sentinel|sentinels',
                3,
                ['~', [['+', 'admin']]],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@admin'],
                    ['+', '@slow'],
                    ['+', '@dangerous'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
          ],
        ],
      ],
    ],
    docs: [
      '%',
      [
        ['summary', 'A container for Sentinel commands'],
        ['since', '2.8.4'],
        ['group', 'sentinel'],
        ['complexity', 'Depends on subcommand.'],
        [
          'subcommands',
          [
            '%',
            [
              [
                'sentinel|is-master-down-by-addr',
                [
                  '%',
                  [
                    ['summary', 'Check if a master is down'],
                    ['since', '2.8.4'],
                    ['group', 'sentinel'],
                    ['complexity', 'O(1)'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'ip'],
                              ['type', 'string'],
                            ],
                          ],
                          [
                            '%',
                            [
                              ['name', 'port'],
                              ['type', 'integer'],
                            ],
                          ],
                          [
                            '%',
                            [
                              ['name', 'current-epoch'],
                              ['type', 'integer'],
                            ],
                          ],
                          [
                            '%',
                            [
                              ['name', 'runid'],
                              ['type', 'string'],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'sentinel|monitor',
                [
                  '%',
                  [
                    ['summary', 'Start monitoring'],
                    ['since', '2.8.4'],
                    ['group', 'sentinel'],
                    ['complexity', 'O(1)'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'name'],
                              ['type', 'string'],
                            ],
                          ],
                          [
                            '%',
                            [
                              ['name', 'ip'],
                              ['type', 'string'],
                            ],
                          ],
                          [
                            '%',
                            [
                              ['name', 'port'],
                              ['type', 'integer'],
                            ],
                          ],
                          [
                            '%',
                            [
                              ['name', 'quorum'],
                              ['type', 'integer'],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'sentinel|remove',
                [
                  '%',
                  [
                    ['summary', 'Stop monitoring'],
                    ['since', '2.8.4'],
                    ['group', 'sentinel'],
                    ['complexity', 'O(1)'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'master-name'],
                              ['type', 'string'],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'sentinel|pending-scripts',
                [
                  '%',
                  [
                    ['summary', 'Get information about pending scripts'],
                    ['since', '2.8.4'],
                    ['group', 'sentinel'],
                  ],
                ],
              ],
              [
                'sentinel|simulate-failure',
                [
                  '%',
                  [
                    ['summary', 'Simulate failover scenarios'],
                    ['since', '3.2.0'],
                    ['group', 'sentinel'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'mode'],
                              ['type', 'oneof'],
                              [
                                'flags',
                                [
                                  '~',
                                  [
                                    ['+', 'optional'],
                                    ['+', 'multiple'],
                                  ],
                                ],
                              ],
                              [
                                'arguments',
                                [
                                  '*',
                                  [
                                    [
                                      '%',
                                      [
                                        ['name', 'crash-after-election'],
                                        ['type', 'pure-token'],
                                      ],
                                    ],
                                    [
                                      '%',
                                      [
                                        ['name', 'crash-after-promotion'],
                                        ['type', 'pure-token'],
                                      ],
                                    ],
                                    [
                                      '%',
                                      [
                                        ['name', 'help'],
                                        ['type', 'pure-token'],
                                      ],
                                    ],
                                  ],
                                ],
                              ],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'sentinel|info-cache',
                [
                  '%',
                  [
                    ['summary', 'Get cached INFO from the instances in the deployment'],
                    ['since', '3.2.0'],
                    ['group', 'sentinel'],
                    ['complexity', 'O(N) where N is the number of instances'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'nodename'],
                              ['type', 'string'],
                              ['flags', ['~', [['+', 'multiple']]]],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'sentinel|failover',
                [
                  '%',
                  [
                    ['summary', 'Force a failover'],
                    ['since', '2.8.4'],
                    ['group', 'sentinel'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'master-name'],
                              ['type', 'string'],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'sentinel|help',
                [
                  '%',
                  [
                    ['summary', 'Show helpful text about the different subcommands'],
                    ['since', '6.2.0'],
                    ['group', 'sentinel'],
                    ['complexity', 'O(1)'],
                  ],
                ],
              ],
              [
                'sentinel|set',
                [
                  '%',
                  [
                    ['summary', 'Change the configuration of a monitored master'],
                    ['since', '2.8.4'],
                    ['group', 'sentinel'],
                    ['complexity', 'O(1)'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'master-name'],
                              ['type', 'string'],
                            ],
                          ],
                          [
                            '%',
                            [
                              ['name', 'option_value'],
                              ['type', 'block'],
                              ['flags', ['~', [['+', 'multiple']]]],
                              [
                                'arguments',
                                [
                                  '*',
                                  [
                                    [
                                      '%',
                                      [
                                        ['name', 'option'],
                                        ['type', 'string'],
                                      ],
                                    ],
                                    [
                                      '%',
                                      [
                                        ['name', 'value'],
                                        ['type', 'string'],
                                      ],
                                    ],
                                  ],
                                ],
                              ],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'sentinel|ckquorum',
                [
                  '%',
                  [
                    ['summary', 'Check for a Sentinel quorum'],
                    ['since', '2.8.4'],
                    ['group', 'sentinel'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'master-name'],
                              ['type', 'string'],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'sentinel|masters',
                [
                  '%',
                  [
                    ['summary', 'List the monitored masters'],
                    ['since', '2.8.4'],
                    ['group', 'sentinel'],
                    ['complexity', 'O(N) where N is the number of masters'],
                  ],
                ],
              ],
              [
                'sentinel|flushconfig',
                [
                  '%',
                  [
                    ['summary', 'Rewrite configuration file'],
                    ['since', '2.8.4'],
                    ['group', 'sentinel'],
                    ['complexity', 'O(1)'],
                  ],
                ],
              ],
              [
                'sentinel|replicas',
                [
                  '%',
                  [
                    ['summary', 'List the monitored replicas'],
                    ['since', '5.0.0'],
                    ['group', 'sentinel'],
                    ['complexity', 'O(N) where N is the number of replicas'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'master-name'],
                              ['type', 'string'],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'sentinel|config',
                [
                  '%',
                  [
                    ['summary', 'Configure Sentinel'],
                    ['since', '6.2.0'],
                    ['group', 'sentinel'],
                    ['complexity', 'O(1)'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'set_or_get'],
                              ['type', 'oneof'],
                              [
                                'arguments',
                                [
                                  '*',
                                  [
                                    [
                                      '%',
                                      [
                                        ['name', 'set_param_value'],
                                        ['type', 'block'],
                                        ['token', 'SET'],
                                        ['flags', ['~', [['+', 'multiple']]]],
                                        [
                                          'arguments',
                                          [
                                            '*',
                                            [
                                              [
                                                '%',
                                                [
                                                  ['name', 'parameter'],
                                                  ['type', 'string'],
                                                ],
                                              ],
                                              [
                                                '%',
                                                [
                                                  ['name', 'value'],
                                                  ['type', 'string'],
                                                ],
                                              ],
                                            ],
                                          ],
                                        ],
                                      ],
                                    ],
                                    [
                                      '%',
                                      [
                                        ['name', 'parameter'],
                                        ['type', 'string'],
                                        ['token', 'GET'],
                                        ['flags', ['~', [['+', 'multiple']]]],
                                      ],
                                    ],
                                  ],
                                ],
                              ],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'sentinel|master',
                [
                  '%',
                  [
                    ['summary', 'Shows the state of a master'],
                    ['since', '2.8.4'],
                    ['group', 'sentinel'],
                    ['complexity', 'O(1)'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'master-name'],
                              ['type', 'string'],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'sentinel|debug',
                [
                  '%',
                  [
                    ['summary', 'List or update the current configurable parameters'],
                    ['since', '7.0.0'],
                    ['group', 'sentinel'],
                    ['complexity', 'O(N) where N is the number of configurable parameters'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'parameter_value'],
                              ['type', 'block'],
                              ['flags', ['~', [['+', 'multiple']]]],
                              [
                                'arguments',
                                [
                                  '*',
                                  [
                                    [
                                      '%',
                                      [
                                        ['name', 'parameter'],
                                        ['type', 'string'],
                                      ],
                                    ],
                                    [
                                      '%',
                                      [
                                        ['name', 'value'],
                                        ['type', 'string'],
                                      ],
                                    ],
                                  ],
                                ],
                              ],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'sentinel|slaves',
                [
                  '%',
                  [
                    ['summary', 'List the monitored slaves'],
                    ['since', '2.8.0'],
                    ['group', 'sentinel'],
                    ['complexity', 'O(N) where N is the number of slaves'],
                    ['doc_flags', ['~', [['+', 'deprecated']]]],
                    ['deprecated_since', '5.0.0'],
                    ['replaced_by', '`SENTINEL REPLICAS`'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'master-name'],
                              ['type', 'string'],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'sentinel|reset',
                [
                  '%',
                  [
                    ['summary', 'Reset masters by name pattern'],
                    ['since', '2.8.4'],
                    ['group', 'sentinel'],
                    ['complexity', 'O(N) where N is the number of monitored masters'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'pattern'],
                              ['type', 'pattern'],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'sentinel|get-master-addr-by-name',
                [
                  '%',
                  [
                    ['summary', 'Get port and address of a master'],
                    ['since', '2.8.4'],
                    ['group', 'sentinel'],
                    ['complexity', 'O(1)'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'master-name'],
                              ['type', 'string'],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'sentinel|myid',
                [
                  '%',
                  [
                    ['summary', 'Get the Sentinel instance ID'],
                    ['since', '6.2.0'],
                    ['group', 'sentinel'],
                    ['complexity', 'O(1)'],
                  ],
                ],
              ],
              [
                'sentinel|sentinels',
                [
                  '%',
                  [
                    ['summary', 'List the Sentinel instances'],
                    ['since', '2.8.4'],
                    ['group', 'sentinel'],
                    ['complexity', 'O(N) where N is the number of Sentinels'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'master-name'],
                              ['type', 'string'],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
            ],
          ],
        ],
      ],
    ],
  },
  {
    name: 'shutdown',
    info: [
      '*',
      [
        'shutdown',
        -1,
        [
          '~',
          [
            ['+', 'admin'],
            ['+', 'noscript'],
            ['+', 'loading'],
            ['+', 'stale'],
            ['+', 'no_multi'],
            ['+', 'allow_busy'],
          ],
        ],
        0,
        0,
        0,
        [
          '~',
          [
            ['+', '@admin'],
            ['+', '@slow'],
            ['+', '@dangerous'],
          ],
        ],
        ['~', []],
        ['~', []],
        ['~', []],
      ],
    ],
    docs: [
      '%',
      [
        ['summary', 'Synchronously save the dataset to disk and then shut down the server'],
        ['since', '1.0.0'],
        ['group', 'server'],
        [
          'complexity',
          'O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)',
        ],
        ['history', ['~', [['*', ['7.0.0', 'Added the `NOW`, `FORCE` and `ABORT` modifiers.']]]]],
        [
          'arguments',
          [
            '*',
            [
              [
                '%',
                [
                  ['name', 'nosave_save'],
                  ['type', 'oneof'],
                  ['flags', ['~', [['+', 'optional']]]],
                  [
                    'arguments',
                    [
                      '*',
                      [
                        [
                          '%',
                          [
                            ['name', 'nosave'],
                            ['type', 'pure-token'],
                            ['token', 'NOSAVE'],
                          ],
                        ],
                        [
                          '%',
                          [
                            ['name', 'save'],
                            ['type', 'pure-token'],
                            ['token', 'SAVE'],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                '%',
                [
                  ['name', 'now'],
                  ['type', 'pure-token'],
                  ['token', 'NOW'],
                  ['since', '7.0.0'],
                  ['flags', ['~', [['+', 'optional']]]],
                ],
              ],
              [
                '%',
                [
                  ['name', 'force'],
                  ['type', 'pure-token'],
                  ['token', 'FORCE'],
                  ['since', '7.0.0'],
                  ['flags', ['~', [['+', 'optional']]]],
                ],
              ],
              [
                '%',
                [
                  ['name', 'abort'],
                  ['type', 'pure-token'],
                  ['token', 'ABORT'],
                  ['since', '7.0.0'],
                  ['flags', ['~', [['+', 'optional']]]],
                ],
              ],
            ],
          ],
        ],
      ],
    ],
  },
  {
    name: 'ping',
    info: [
      '*',
      [
        'ping',
        -1,
        ['~', [['+', 'fast']]],
        0,
        0,
        0,
        [
          '~',
          [
            ['+', '@fast'],
            ['+', '@connection'],
          ],
        ],
        ['~', ['request_policy:all_shards', 'response_policy:all_succeeded']],
        ['~', []],
        ['~', []],
      ],
    ],
    docs: [
      '%',
      [
        ['summary', 'Ping the server'],
        ['since', '1.0.0'],
        ['group', 'connection'],
        ['complexity', 'O(1)'],
        [
          'arguments',
          [
            '*',
            [
              [
                '%',
                [
                  ['name', 'message'],
                  ['type', 'string'],
                  ['flags', ['~', [['+', 'optional']]]],
                ],
              ],
            ],
          ],
        ],
      ],
    ],
  },
  {
    name: 'subscribe',
    info: [
      '*',
      [
        'subscribe',
        -2,
        [
          '~',
          [
            ['+', 'pubsub'],
            ['+', 'noscript'],
            ['+', 'loading'],
            ['+', 'stale'],
          ],
        ],
        0,
        0,
        0,
        [
          '~',
          [
            ['+', '@pubsub'],
            ['+', '@slow'],
          ],
        ],
        ['~', []],
        ['~', []],
        ['~', []],
      ],
    ],
    docs: [
      '%',
      [
        ['summary', 'Listen for messages published to the given channels'],
        ['since', '2.0.0'],
        ['group', 'pubsub'],
        ['complexity', 'O(N) where N is the number of channels to subscribe to.'],
        [
          'arguments',
          [
            '*',
            [
              [
                '%',
                [
                  ['name', 'channel'],
                  ['type', 'string'],
                  ['flags', ['~', [['+', 'multiple']]]],
                ],
              ],
            ],
          ],
        ],
      ],
    ],
  },
  {
    name: 'role',
    info: [
      '*',
      [
        'role',
        1,
        [
          '~',
          [
            ['+', 'noscript'],
            ['+', 'loading'],
            ['+', 'stale'],
            ['+', 'fast'],
          ],
        ],
        0,
        0,
        0,
        [
          '~',
          [
            ['+', '@admin'],
            ['+', '@fast'],
            ['+', '@dangerous'],
          ],
        ],
        ['~', []],
        ['~', []],
        ['~', []],
      ],
    ],
    docs: [
      '%',
      [
        ['summary', 'Return the role of the instance in the context of replication'],
        ['since', '2.8.12'],
        ['group', 'server'],
        ['complexity', 'O(1)'],
      ],
    ],
  },
  {
    name: 'publish',
    info: [
      '*',
      [
        'publish',
        3,
        [
          '~',
          [
            ['+', 'pubsub'],
            ['+', 'loading'],
            ['+', 'stale'],
            ['+', 'fast'],
          ],
        ],
        0,
        0,
        0,
        [
          '~',
          [
            ['+', '@pubsub'],
            ['+', '@fast'],
          ],
        ],
        ['~', []],
        ['~', []],
        ['~', []],
      ],
    ],
    docs: [
      '%',
      [
        ['summary', 'Post a message to a channel'],
        ['since', '2.0.0'],
        ['group', 'pubsub'],
        [
          'complexity',
          'O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).',
        ],
        [
          'arguments',
          [
            '*',
            [
              [
                '%',
                [
                  ['name', 'channel'],
                  ['type', 'string'],
                ],
              ],
              [
                '%',
                [
                  ['name', 'message'],
                  ['type', 'string'],
                ],
              ],
            ],
          ],
        ],
      ],
    ],
  },
  {
    name: 'unsubscribe',
    info: [
      '*',
      [
        'unsubscribe',
        -1,
        [
          '~',
          [
            ['+', 'pubsub'],
            ['+', 'noscript'],
            ['+', 'loading'],
            ['+', 'stale'],
          ],
        ],
        0,
        0,
        0,
        [
          '~',
          [
            ['+', '@pubsub'],
            ['+', '@slow'],
          ],
        ],
        ['~', []],
        ['~', []],
        ['~', []],
      ],
    ],
    docs: [
      '%',
      [
        ['summary', 'Stop listening for messages posted to the given channels'],
        ['since', '2.0.0'],
        ['group', 'pubsub'],
        ['complexity', 'O(N) where N is the number of clients already subscribed to a channel.'],
        [
          'arguments',
          [
            '*',
            [
              [
                '%',
                [
                  ['name', 'channel'],
                  ['type', 'string'],
                  [
                    'flags',
                    [
                      '~',
                      [
                        ['+', 'optional'],
                        ['+', 'multiple'],
                      ],
                    ],
                  ],
                ],
              ],
            ],
          ],
        ],
      ],
    ],
  },
  {
    name: 'punsubscribe',
    info: [
      '*',
      [
        'punsubscribe',
        -1,
        [
          '~',
          [
            ['+', 'pubsub'],
            ['+', 'noscript'],
            ['+', 'loading'],
            ['+', 'stale'],
          ],
        ],
        0,
        0,
        0,
        [
          '~',
          [
            ['+', '@pubsub'],
            ['+', '@slow'],
          ],
        ],
        ['~', []],
        ['~', []],
        ['~', []],
      ],
    ],
    docs: [
      '%',
      [
        ['summary', 'Stop listening for messages posted to channels matching the given patterns'],
        ['since', '2.0.0'],
        ['group', 'pubsub'],
        [
          'complexity',
          'O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).',
        ],
        [
          'arguments',
          [
            '*',
            [
              [
                '%',
                [
                  ['name', 'pattern'],
                  ['type', 'pattern'],
                  [
                    'flags',
                    [
                      '~',
                      [
                        ['+', 'optional'],
                        ['+', 'multiple'],
                      ],
                    ],
                  ],
                ],
              ],
            ],
          ],
        ],
      ],
    ],
  },
  {
    name: 'auth',
    info: [
      '*',
      [
        'auth',
        -2,
        [
          '~',
          [
            ['+', 'noscript'],
            ['+', 'loading'],
            ['+', 'stale'],
            ['+', 'fast'],
            ['+', 'no_auth'],
            ['+', 'allow_busy'],
          ],
        ],
        0,
        0,
        0,
        [
          '~',
          [
            ['+', '@fast'],
            ['+', '@connection'],
          ],
        ],
        ['~', []],
        ['~', []],
        ['~', []],
      ],
    ],
    docs: [
      '%',
      [
        ['summary', 'Authenticate to the server'],
        ['since', '1.0.0'],
        ['group', 'connection'],
        ['complexity', 'O(N) where N is the number of passwords defined for the user'],
        ['history', ['~', [['*', ['6.0.0', 'Added ACL style (username and password).']]]]],
        [
          'arguments',
          [
            '*',
            [
              [
                '%',
                [
                  ['name', 'username'],
                  ['type', 'string'],
                  ['since', '6.0.0'],
                  ['flags', ['~', [['+', 'optional']]]],
                ],
              ],
              [
                '%',
                [
                  ['name', 'password'],
                  ['type', 'string'],
                ],
              ],
            ],
          ],
        ],
      ],
    ],
  },
  {
    name: 'info',
    info: [
      '*',
      [
        'info',
        -1,
        [
          '~',
          [
            ['+', 'loading'],
            ['+', 'stale'],
          ],
        ],
        0,
        0,
        0,
        [
          '~',
          [
            ['+', '@slow'],
            ['+', '@dangerous'],
          ],
        ],
        ['~', ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special']],
        ['~', []],
        ['~', []],
      ],
    ],
    docs: [
      '%',
      [
        ['summary', 'Get information and statistics about the server'],
        ['since', '1.0.0'],
        ['group', 'server'],
        ['complexity', 'O(1)'],
        ['history', ['~', [['*', ['7.0.0', 'Added support for taking multiple section arguments.']]]]],
        [
          'arguments',
          [
            '*',
            [
              [
                '%',
                [
                  ['name', 'section'],
                  ['type', 'string'],
                  [
                    'flags',
                    [
                      '~',
                      [
                        ['+', 'optional'],
                        ['+', 'multiple'],
                      ],
                    ],
                  ],
                ],
              ],
            ],
          ],
        ],
      ],
    ],
  },
  {
    name: 'psubscribe',
    info: [
      '*',
      [
        'psubscribe',
        -2,
        [
          '~',
          [
            ['+', 'pubsub'],
            ['+', 'noscript'],
            ['+', 'loading'],
            ['+', 'stale'],
          ],
        ],
        0,
        0,
        0,
        [
          '~',
          [
            ['+', '@pubsub'],
            ['+', '@slow'],
          ],
        ],
        ['~', []],
        ['~', []],
        ['~', []],
      ],
    ],
    docs: [
      '%',
      [
        ['summary', 'Listen for messages published to channels matching the given patterns'],
        ['since', '2.0.0'],
        ['group', 'pubsub'],
        ['complexity', 'O(N) where N is the number of patterns the client is already subscribed to.'],
        [
          'arguments',
          [
            '*',
            [
              [
                '%',
                [
                  ['name', 'pattern'],
                  ['type', 'block'],
                  ['flags', ['~', [['+', 'multiple']]]],
                  [
                    'arguments',
                    [
                      '*',
                      [
                        [
                          '%',
                          [
                            ['name', 'pattern'],
                            ['type', 'pattern'],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
            ],
          ],
        ],
      ],
    ],
  },
  {
    name: 'command',
    info: [
      '*',
      [
        'command',
        -1,
        [
          '~',
          [
            ['+', 'loading'],
            ['+', 'stale'],
          ],
        ],
        0,
        0,
        0,
        [
          '~',
          [
            ['+', '@slow'],
            ['+', '@connection'],
          ],
        ],
        ['~', ['nondeterministic_output_order']],
        ['~', []],
        [
          '*',
          [
            [
              '*',
              [
                'command|list',
                -2,
                [
                  '~',
                  [
                    ['+', 'loading'],
                    ['+', 'stale'],
                  ],
                ],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@slow'],
                    ['+', '@connection'],
                  ],
                ],
                ['~', ['nondeterministic_output_order']],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'command|count',
                2,
                [
                  '~',
                  [
                    ['+', 'loading'],
                    ['+', 'stale'],
                  ],
                ],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@slow'],
                    ['+', '@connection'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'command|info',
                -2,
                [
                  '~',
                  [
                    ['+', 'loading'],
                    ['+', 'stale'],
                  ],
                ],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@slow'],
                    ['+', '@connection'],
                  ],
                ],
                ['~', ['nondeterministic_output_order']],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'command|docs',
                -2,
                [
                  '~',
                  [
                    ['+', 'loading'],
                    ['+', 'stale'],
                  ],
                ],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@slow'],
                    ['+', '@connection'],
                  ],
                ],
                ['~', ['nondeterministic_output_order']],
                ['~', []],
                ['~', []],
              ],
            ],
            [
              '*',
              [
                'command|help',
                2,
                [
                  '~',
                  [
                    ['+', 'loading'],
                    ['+', 'stale'],
                  ],
                ],
                0,
                0,
                0,
                [
                  '~',
                  [
                    ['+', '@slow'],
                    ['+', '@connection'],
                  ],
                ],
                ['~', []],
                ['~', []],
                ['~', []],
              ],
            ],
          ],
        ],
      ],
    ],
    docs: [
      '%',
      [
        ['summary', 'Get array of Redis command details'],
        ['since', '2.8.13'],
        ['group', 'server'],
        ['complexity', 'O(N) where N is the total number of Redis commands'],
        [
          'subcommands',
          [
            '%',
            [
              [
                'command|list',
                [
                  '%',
                  [
                    ['summary', 'Get an array of Redis command names'],
                    ['since', '7.0.0'],
                    ['group', 'server'],
                    ['complexity', 'O(N) where N is the total number of Redis commands'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'filterby'],
                              ['type', 'oneof'],
                              ['token', 'FILTERBY'],
                              ['flags', ['~', [['+', 'optional']]]],
                              [
                                'arguments',
                                [
                                  '*',
                                  [
                                    [
                                      '%',
                                      [
                                        ['name', 'module-name'],
                                        ['type', 'string'],
                                        ['token', 'MODULE'],
                                      ],
                                    ],
                                    [
                                      '%',
                                      [
                                        ['name', 'category'],
                                        ['type', 'string'],
                                        ['token', 'ACLCAT'],
                                      ],
                                    ],
                                    [
                                      '%',
                                      [
                                        ['name', 'pattern'],
                                        ['type', 'pattern'],
                                        ['token', 'PATTERN'],
                                      ],
                                    ],
                                  ],
                                ],
                              ],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'command|count',
                [
                  '%',
                  [
                    ['summary', 'Get total number of Redis commands'],
                    ['since', '2.8.13'],
                    ['group', 'server'],
                    ['complexity', 'O(1)'],
                  ],
                ],
              ],
              [
                'command|info',
                [
                  '%',
                  [
                    [
                      'summary',
                      'Get array of specific Redis command details, or all when no argument is given.',
                    ],
                    ['since', '2.8.13'],
                    ['group', 'server'],
                    ['complexity', 'O(N) where N is the number of commands to look up'],
                    [
                      'history',
                      [
                        '~',
                        [
                          [
                            '*',
                            ['7.0.0', 'Allowed to be called with no argument to get info on all commands.'],
                          ],
                        ],
                      ],
                    ],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'command-name'],
                              ['type', 'string'],
                              [
                                'flags',
                                [
                                  '~',
                                  [
                                    ['+', 'optional'],
                                    ['+', 'multiple'],
                                  ],
                                ],
                              ],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'command|docs',
                [
                  '%',
                  [
                    ['summary', 'Get array of specific Redis command documentation'],
                    ['since', '7.0.0'],
                    ['group', 'server'],
                    ['complexity', 'O(N) where N is the number of commands to look up'],
                    [
                      'arguments',
                      [
                        '*',
                        [
                          [
                            '%',
                            [
                              ['name', 'command-name'],
                              ['type', 'string'],
                              [
                                'flags',
                                [
                                  '~',
                                  [
                                    ['+', 'optional'],
                                    ['+', 'multiple'],
                                  ],
                                ],
                              ],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
              [
                'command|help',
                [
                  '%',
                  [
                    ['summary', 'Show helpful text about the different subcommands'],
                    ['since', '5.0.0'],
                    ['group', 'server'],
                    ['complexity', 'O(1)'],
                  ],
                ],
              ],
            ],
          ],
        ],
      ],
    ],
  },
];

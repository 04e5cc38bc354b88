/** The command's exit codes (docs/http-api.md, "CLI exit codes"). */
export const EXIT = {
  ok: 0,
  /** Network, an unexpected reply, a 5xx, or a runtime failure. */
  failure: 1,
  /** A usage error, or a 400 from the server. */
  usage: 2,
  inProgress: 3,
  noGoodReplica: 4,
  noSuchMaster: 5,
  /** CKQUORUM: the quorum or the majority cannot be reached. */
  noQuorum: 6,
  /** Refused: a 403, or 409 DUPLICATE. */
  refused: 7,
} as const;

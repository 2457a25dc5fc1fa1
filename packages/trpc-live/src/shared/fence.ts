// The fence: what a mutation's response tells the mutating client about where its publishes landed
// (read-your-writes without a second refetch). Imports nothing.

/** One published key and where it landed; what the mutating client uses as a fence. */
export interface PublishedKey {
  /** The resource the mutation invalidated. */
  readonly resource: string;
  /** The instance, when the key named one. */
  readonly id?: string;
  /** Where the signal landed in the hub's history (`epoch:seq`): the client's stream has it once it passed this cursor. */
  readonly cursor: string;
}

/** Response header carrying the fence: a JSON array of {@link PublishedKey}. */
export const LIVE_FENCE_HEADER = 'x-trpc-live-fence';

import type { LiveAction, LiveHint } from '../core';

/** One key a mutation invalidates. `id` narrows it to one entity. */
export interface InvalidationKey<TResource extends string = string> {
  readonly resource: TResource;
  readonly id?: string | number;
  /** @default 'changed' */
  readonly action?: LiveAction;
  /** Small JSON object delivered with the signal. */
  readonly hint?: LiveHint;
}

/** What the function form of `invalidates` receives, after the mutation succeeded. */
export interface InvalidatesArgs<TCtx = any> {
  /** The call's input as received (it passed the procedure's validation). */
  readonly input: any;
  /** The mutation's result. */
  readonly output: any;
  readonly ctx: TCtx;
}

/** Static keys, or a function of the call computing them. */
export type InvalidatesDeclaration<TResource extends string = string, TCtx = any> =
  | readonly InvalidationKey<TResource>[]
  | ((args: InvalidatesArgs<TCtx>) => readonly InvalidationKey<TResource>[] | InvalidationKey<TResource> | null | undefined);

/**
 * Procedure meta understood by the invalidation middleware:
 * `.meta({ invalidates: [{ resource: 'orders' }] })`.
 */
export interface LiveMeta<TResource extends string = string, TCtx = any> {
  invalidates?: InvalidatesDeclaration<TResource, TCtx>;
}

import { TRPCError } from '@trpc/server';
import { DomainError } from '../data/domainError';

/** Runs domain code, mapping its errors to tRPC errors with the same message. */
export function domain<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof DomainError) throw new TRPCError({ code: error.code, message: error.message });
    throw error;
  }
}

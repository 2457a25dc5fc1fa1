/** A domain error the routers map to the tRPC code of the same name, keeping the message. */
export class DomainError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'CONFLICT' | 'BAD_REQUEST',
    message: string,
  ) {
    super(message);
  }
}

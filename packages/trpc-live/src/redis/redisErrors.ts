/** Errors Redis answered (a script or type error): retrying or going local would not help. */
export const isReplyError = (error: unknown): boolean => error instanceof Error && error.name === 'ReplyError';

/** The text of a thrown value, for logs and health. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Options of {@link liveSseOptions}. */
export interface LiveSseSettings {
  /** How often the server pings an idle stream. @default 15000 */
  pingIntervalMs?: number;
  /** A client that hears nothing (not even a ping) for this long reconnects. @default 40000 */
  clientTimeoutMs?: number;
}

/**
 * The `sse` setting for `initTRPC.create({ sse })` that a live stream needs:
 * pings keep proxies from cutting an idle stream (many close after 30-60 s of
 * silence) and let the client notice a half-open connection, after which it
 * reconnects and resumes from its cursor. tRPC's own default sends no pings.
 * Throws when the ping is not shorter than the client's timeout (the client
 * would then reconnect from every idle stream).
 */
export function liveSseOptions(settings: LiveSseSettings = {}) {
  const intervalMs = settings.pingIntervalMs ?? 15_000;
  const reconnectAfterInactivityMs = settings.clientTimeoutMs ?? 40_000;
  if (!(intervalMs > 0 && intervalMs < reconnectAfterInactivityMs)) {
    throw new RangeError(`liveSseOptions: pingIntervalMs (${intervalMs}) must be positive and shorter than clientTimeoutMs (${reconnectAfterInactivityMs})`);
  }
  return { ping: { enabled: true, intervalMs }, client: { reconnectAfterInactivityMs } } as const;
}

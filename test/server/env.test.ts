import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { appEnv, ENV_NAMES, EnvError, envValue, readEnv, type EnvSource } from '../../src/server/env';

/** The error `readEnv(env)` throws (fails the test when it does not throw). */
function refusal(env: EnvSource): EnvError {
  try {
    readEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvError);
    return error as EnvError;
  }
  throw new Error(`readEnv accepted ${JSON.stringify(env)}`);
}

describe('the environment schema (src/server/env.ts)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('applies the documented defaults when nothing is set', () => {
    // The defaults of README's configuration table, written out here rather than read from the schema.
    expect(readEnv({})).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      DATA_DIR: 'data',
      COOKIE_SECURE: false,
      ALLOWED_ORIGINS: [],
      TRUST_PROXY: 0,
      LIVE_TRANSPORT: 'fast',
      TRPC_HTTP: 'direct',
      LIVE_REDIS_PREFIX: 'live',
      LIVE_PING_INTERVAL_MS: 15_000,
      LIVE_CLIENT_TIMEOUT_MS: 40_000,
      LIVE_MAX_DURATION_MS: 3_600_000,
      LIVE_DRAIN_TIMEOUT_MS: 10_000,
      LIVE_DRAIN_JITTER_MS: 2_000,
      METRICS_HOST: '127.0.0.1',
      AUTH_ISSUER: 'trpc-live',
      AUTH_AUDIENCE: 'trpc-live:app',
      AUTH_CLOCK_TOLERANCE_S: 5,
      LIVE_TICKET_TTL_MS: 30_000,
      LIVE_CREDENTIAL_TTL_S: 3_600,
    });
    // Defaults kept beside the code that owns them (httpTimeouts.ts, requestLimits.ts, the import worker, the Redis backend, main.ts).
    for (const name of ['HTTP_KEEP_ALIVE_TIMEOUT_MS', 'TRPC_MAX_REQUESTS_PER_SESSION', 'IMPORT_CHUNK_ROWS', 'IMPORT_PAUSE_MS', 'LIVE_REDIS_MAXLEN', 'LIVE_DRAIN_GRACE_MS'] as const) {
      expect(readEnv({})[name], name).toBeUndefined();
    }
  });

  it('treats an empty value as unset, and parses well-formed values', () => {
    expect(readEnv({ LIVE_TICKET_TTL_MS: '', PORT: '' })).toMatchObject({ LIVE_TICKET_TTL_MS: 30_000, PORT: 3000 });
    expect(
      readEnv({
        LIVE_TICKET_TTL_MS: '5000',
        COOKIE_SECURE: 'true',
        LIVE_TRANSPORT: 'stock',
        ALLOWED_ORIGINS: ' https://shop.example/ , http://localhost:3000',
        METRICS_PORT: '9464',
        AUTH_CLOCK_TOLERANCE_S: '2.5',
        LIVE_REDIS_URL: 'redis://:pw@127.0.0.1:6379/2',
      }),
    ).toMatchObject({
      LIVE_TICKET_TTL_MS: 5000,
      COOKIE_SECURE: true,
      LIVE_TRANSPORT: 'stock',
      ALLOWED_ORIGINS: ['https://shop.example', 'http://localhost:3000'],
      METRICS_PORT: 9464,
      AUTH_CLOCK_TOLERANCE_S: 2.5,
      LIVE_REDIS_URL: 'redis://:pw@127.0.0.1:6379/2',
    });
  });

  it('refuses a value that is not a number, naming the variable (30s used to become 30000 silently)', () => {
    const error = refusal({ LIVE_TICKET_TTL_MS: '30s' });
    expect(error.variables).toEqual(['LIVE_TICKET_TTL_MS']);
    expect(error.message).toBe('LIVE_TICKET_TTL_MS must be a whole number of milliseconds of at least 1, got "30s"');
    expect(refusal({ LIVE_CREDENTIAL_TTL_S: '1h' }).message).toBe('LIVE_CREDENTIAL_TTL_S must be a whole number of seconds of at least 1, got "1h"');
    expect(refusal({ IMPORT_PAUSE_MS: '1.5' }).message).toBe('IMPORT_PAUSE_MS must be a whole number of milliseconds, got "1.5"');
    expect(refusal({ AUTH_CLOCK_TOLERANCE_S: 'five' }).variables).toEqual(['AUTH_CLOCK_TOLERANCE_S']);
  });

  it('refuses a negative value, and zero where at least 1 is needed', () => {
    expect(refusal({ LIVE_DRAIN_TIMEOUT_MS: '-1' }).message).toBe('LIVE_DRAIN_TIMEOUT_MS must be a whole number of milliseconds, got "-1"');
    expect(refusal({ TRUST_PROXY: '-2' }).variables).toEqual(['TRUST_PROXY']);
    expect(refusal({ AUTH_CLOCK_TOLERANCE_S: '-1' }).message).toMatch(/^AUTH_CLOCK_TOLERANCE_S must be a number of seconds between 0 and 300/);
    expect(refusal({ LIVE_PING_INTERVAL_MS: '0' }).message).toMatch(/^LIVE_PING_INTERVAL_MS must be a whole number of milliseconds of at least 1/);
    expect(refusal({ IMPORT_CHUNK_ROWS: '0' }).variables).toEqual(['IMPORT_CHUNK_ROWS']);
    expect(refusal({ METRICS_PORT: '70000' }).message).toBe('METRICS_PORT must be a port number (1-65535), got "70000"');
    // Zero is allowed where it means something: LIVE_MAX_DURATION_MS=0 never rotates.
    expect(readEnv({ LIVE_MAX_DURATION_MS: '0' }).LIVE_MAX_DURATION_MS).toBe(0);
  });

  it('refuses a value outside an enumeration, listing the allowed ones', () => {
    expect(refusal({ LIVE_TRANSPORT: 'quick' }).message).toBe('LIVE_TRANSPORT must be one of fast, stock, got "quick"');
    expect(refusal({ TRPC_HTTP: 'Next' }).variables).toEqual(['TRPC_HTTP']);
    expect(refusal({ COOKIE_SECURE: 'yes' }).message).toBe('COOKIE_SECURE must be one of true, false, got "yes"');
    expect(refusal({ AUTH_ALGORITHM: 'HS512' }).message).toBe('AUTH_ALGORITHM must be one of RS256, ES256, got "HS512"');
  });

  it('refuses malformed URLs and origins without echoing a URL that may hold a password', () => {
    const redis = refusal({ LIVE_REDIS_URL: 'http://user:secret@cache:6379' });
    expect(redis.message).toBe('LIVE_REDIS_URL must be a redis:// or rediss:// URL');
    expect(refusal({ AUTH_JWKS_URL: 'not a url' }).message).toMatch(/^AUTH_JWKS_URL must be a valid URL/);
    expect(refusal({ ALLOWED_ORIGINS: 'https://ok.example,shop.example' }).message).toMatch(/^ALLOWED_ORIGINS must be comma-separated origins .*got "shop.example"$/);
    expect(refusal({ ALLOWED_ORIGINS: 'https://shop.example/app' }).variables).toEqual(['ALLOWED_ORIGINS']);
  });

  it('names every malformed variable at once, and checks the rules between variables', () => {
    const error = refusal({ PORT: 'eighty', LIVE_TRANSPORT: 'quick', LIVE_TICKET_TTL_MS: '30s' });
    expect([...error.variables].sort()).toEqual(['LIVE_TICKET_TTL_MS', 'LIVE_TRANSPORT', 'PORT']);
    expect(refusal({ LIVE_PING_INTERVAL_MS: '40000' }).message).toBe('LIVE_PING_INTERVAL_MS must be shorter than LIVE_CLIENT_TIMEOUT_MS');
    expect(refusal({ AUTH_PUBLIC_KEY: 'pem', AUTH_JWKS_URL: 'https://idp.example/jwks' }).variables).toContain('AUTH_PUBLIC_KEY');
  });

  it('reads process.env again when a variable changes, through appEnv and envValue alike', () => {
    vi.stubEnv('LIVE_TICKET_TTL_MS', '1234');
    expect(appEnv().LIVE_TICKET_TTL_MS).toBe(1234);
    vi.stubEnv('LIVE_TICKET_TTL_MS', '4321');
    expect(envValue('LIVE_TICKET_TTL_MS')).toBe(4321);
    vi.stubEnv('TRUST_PROXY', '2');
    expect(envValue('TRUST_PROXY')).toBe(2);
    vi.stubEnv('LIVE_TICKET_TTL_MS', '30s');
    expect(() => envValue('LIVE_TICKET_TTL_MS')).toThrow(/^LIVE_TICKET_TTL_MS must be/);
    expect(() => appEnv()).toThrow(/^LIVE_TICKET_TTL_MS must be/);
  });

  it("lists exactly the variables of README's configuration table", () => {
    const readme = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('| variable '), readme.indexOf('\n\n', readme.indexOf('| variable ')));
    const documented = new Set<string>();
    for (const row of table.split('\n').slice(2)) {
      for (const [, name] of row.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) documented.add(name!);
    }
    expect([...documented].sort()).toEqual([...ENV_NAMES].sort());
  });
});

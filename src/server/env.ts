import { z } from 'zod';
import { SECRET_MIN_BYTES } from './auth/secretFile';

// Every environment variable the app reads, parsed in one schema with one rule: unset or empty
// means the default; any other value must parse, or startup stops with a message naming the
// variable. (Before, five parsers disagreed: LIVE_DRAIN_TIMEOUT_MS=10s stopped startup while
// LIVE_TICKET_TTL_MS=30s silently became 30000.) README's "Configuration" table lists the same
// variables and defaults. A variable without a default here is optional, or its default lives
// beside the code that owns it (named in the comment).

/** Where variables are read from: `process.env`, or a plain object in tests. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

/** Algorithms accepted from an external identity provider's public key or JWKS (`AUTH_ALGORITHM`). */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256'] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

const MS = 'a whole number of milliseconds';

const isUnset = (raw: string | undefined): raw is undefined | '' => raw === undefined || raw === '';

/** A whole number in [min, max], or `fallback` when unset; `what` says what is expected in the error. */
function wholeNumber<F extends number | undefined>(what: string, fallback: F, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): number | F => {
      if (isUnset(raw)) return fallback;
      const value = Number(raw);
      if (Number.isInteger(value) && value >= min && value <= max) return value;
      const range = max < Number.MAX_SAFE_INTEGER ? ` (${min}-${max})` : min > 0 ? ` of at least ${min}` : '';
      ctx.addIssue({ code: 'custom', message: `must be ${what}${range}, got ${JSON.stringify(raw)}` });
      return z.NEVER;
    });
}

/** One of `values`, or `fallback` when unset. */
function oneOf<const T extends readonly [string, ...string[]], F extends T[number] | undefined>(values: T, fallback: F) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T[number] | F => {
      if (isUnset(raw)) return fallback;
      if ((values as readonly string[]).includes(raw)) return raw as T[number];
      ctx.addIssue({ code: 'custom', message: `must be one of ${values.join(', ')}, got ${JSON.stringify(raw)}` });
      return z.NEVER;
    });
}

/** Any text, or `fallback` when unset. */
function text<F extends string | undefined>(fallback: F) {
  return z
    .string()
    .optional()
    .transform((raw): string | F => (isUnset(raw) ? fallback : raw));
}

/** A URL with one of `protocols`, or `undefined` when unset. The value is not echoed: it may hold a password. */
function url(protocols: readonly string[], what: string) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): string | undefined => {
      if (isUnset(raw)) return undefined;
      if (URL.canParse(raw) && protocols.includes(new URL(raw).protocol)) return raw;
      ctx.addIssue({ code: 'custom', message: `must be ${what}` });
      return z.NEVER;
    });
}

/** An origin as browsers send it in `Origin`: scheme, lower-case host, optional port, nothing else. */
const isOrigin = (entry: string): boolean =>
  URL.canParse(entry) && ['http:', 'https:'].includes(new URL(entry).protocol) && new URL(entry).origin === entry;

const fields = z.object({
  // The Node entry (src/main.ts).
  PORT: wholeNumber('a port number', 3000, { max: 65_535 }),
  HOST: text('0.0.0.0'),
  LIVE_TRANSPORT: oneOf(['fast', 'stock'], 'fast'),
  TRPC_HTTP: oneOf(['direct', 'next'], 'direct'),
  /** Default: DEFAULT_KEEP_ALIVE_TIMEOUT_MS (httpTimeouts.ts). */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: wholeNumber(MS, undefined),
  /** Default: 5000, 0 with `--dev` (main.ts). */
  LIVE_DRAIN_GRACE_MS: wholeNumber(MS, undefined),
  LIVE_DRAIN_TIMEOUT_MS: wholeNumber(MS, 10_000),
  LIVE_DRAIN_JITTER_MS: wholeNumber(MS, 2_000),

  // Data and the import worker (defaults of the IMPORT_* variables: createImportWorker).
  DATA_DIR: text('data'),
  IMPORT_CHUNK_ROWS: wholeNumber('a whole number', undefined, { min: 1 }),
  IMPORT_PAUSE_MS: wholeNumber(MS, undefined),

  // Sessions, requests and the stream's own credentials.
  AUTH_SECRET: z
    .string()
    .optional()
    .transform((raw, ctx): string | undefined => {
      if (isUnset(raw)) return undefined;
      if (Buffer.byteLength(raw) >= SECRET_MIN_BYTES) return raw;
      ctx.addIssue({
        code: 'custom',
        message:
          `must be at least ${SECRET_MIN_BYTES} bytes long (it has ${Buffer.byteLength(raw)}); ` +
          'unset it to have a random one generated and kept in DATA_DIR',
      });
      return z.NEVER;
    }),
  COOKIE_SECURE: oneOf(['true', 'false'], 'false').transform((value) => value === 'true'),
  ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((raw, ctx): readonly string[] => {
      const list = (raw ?? '')
        .split(',')
        .map((entry) => entry.trim().replace(/\/+$/, ''))
        .filter(Boolean);
      const bad = list.find((entry) => !isOrigin(entry));
      if (bad === undefined) return list;
      ctx.addIssue({ code: 'custom', message: `must be comma-separated origins like https://shop.example (lower case, no path), got ${JSON.stringify(bad)}` });
      return z.NEVER;
    }),
  TRUST_PROXY: wholeNumber('a whole number', 0),
  /** Default: DEFAULT_MAX_REQUESTS_PER_SESSION (requestLimits.ts). */
  TRPC_MAX_REQUESTS_PER_SESSION: wholeNumber('a whole number', undefined, { min: 1 }),
  // PEM in one line: `\n` escapes become newlines.
  AUTH_PUBLIC_KEY: text(undefined).transform((pem) => pem?.replace(/\\n/g, '\n')),
  AUTH_ALGORITHM: oneOf(ASYMMETRIC_ALGORITHMS, undefined),
  AUTH_JWKS_URL: url(['https:', 'http:'], 'a valid URL (https://…)'),
  AUTH_ISSUER: text('trpc-live'),
  AUTH_AUDIENCE: text('trpc-live:app'),
  AUTH_CLOCK_TOLERANCE_S: z
    .string()
    .optional()
    .transform((raw, ctx): number => {
      if (isUnset(raw)) return 5;
      const value = Number(raw);
      if (Number.isFinite(value) && value >= 0 && value <= 300) return value;
      ctx.addIssue({ code: 'custom', message: `must be a number of seconds between 0 and 300, got ${JSON.stringify(raw)}` });
      return z.NEVER;
    }),
  LIVE_TICKET_TTL_MS: wholeNumber(MS, 30_000, { min: 1 }),
  LIVE_CREDENTIAL_TTL_S: wholeNumber('a whole number of seconds', 3_600, { min: 1 }),

  // The live layer.
  LIVE_REDIS_URL: url(['redis:', 'rediss:'], 'a redis:// or rediss:// URL'),
  LIVE_REDIS_PREFIX: text('live'),
  /** Default: the Redis backend's maxLenPerScope (10,000). */
  LIVE_REDIS_MAXLEN: wholeNumber('a whole number', undefined, { min: 1 }),
  LIVE_PING_INTERVAL_MS: wholeNumber(MS, 15_000, { min: 1 }),
  LIVE_CLIENT_TIMEOUT_MS: wholeNumber(MS, 40_000, { min: 1 }),
  LIVE_MAX_DURATION_MS: wholeNumber(MS, 3_600_000),

  // Prometheus.
  METRICS_TOKEN: text(undefined),
  METRICS_PORT: wholeNumber('a port number', undefined, { min: 1, max: 65_535 }),
  METRICS_HOST: text('127.0.0.1'),
});

/** Rules between variables (checked once each variable parsed). */
const envSchema = fields.superRefine((env, ctx) => {
  if (env.LIVE_PING_INTERVAL_MS >= env.LIVE_CLIENT_TIMEOUT_MS) {
    ctx.addIssue({ code: 'custom', path: ['LIVE_PING_INTERVAL_MS'], message: 'must be shorter than LIVE_CLIENT_TIMEOUT_MS' });
  }
  if (env.AUTH_PUBLIC_KEY && env.AUTH_JWKS_URL) {
    ctx.addIssue({ code: 'custom', path: ['AUTH_PUBLIC_KEY'], message: 'and AUTH_JWKS_URL are exclusive: set either, not both' });
  }
  if (env.AUTH_PUBLIC_KEY && !env.AUTH_ALGORITHM) {
    ctx.addIssue({ code: 'custom', path: ['AUTH_PUBLIC_KEY'], message: `needs AUTH_ALGORITHM (${ASYMMETRIC_ALGORITHMS.join(' or ')})` });
  }
});

/** The parsed environment: every variable the app reads, typed, defaults applied. */
export type AppEnv = z.output<typeof envSchema>;

/** The names the schema reads (README's configuration table lists the same). */
export const ENV_NAMES = Object.keys(fields.shape) as ReadonlyArray<keyof AppEnv>;

/** A malformed environment: `variables` names each offending variable; the message says what each must be. */
export class EnvError extends Error {
  constructor(readonly variables: readonly string[], message: string) {
    super(message);
    this.name = 'EnvError';
  }
}

/**
 * Parses `env` with the app's schema; without `env`, the process
 * environment ({@link appEnv}). Functions that take an environment for
 * tests pass theirs through here.
 * @throws EnvError naming every malformed variable (`NAME must be …, got "…"`).
 */
export function readEnv(env?: EnvSource): AppEnv {
  return env ? parse(env) : appEnv();
}

function parse(env: EnvSource): AppEnv {
  const picked: Record<string, string | undefined> = {};
  for (const name of ENV_NAMES) picked[name] = env[name];
  const result = envSchema.safeParse(picked);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({ name: String(issue.path[0] ?? ''), message: issue.message }));
  throw new EnvError(
    problems.map((p) => p.name),
    problems.map((p) => `${p.name} ${p.message}`).join('; '),
  );
}

/** The last parse of `process.env`, and the raw values it was parsed from. */
let cached: { raw: Record<string, string | undefined>; env: AppEnv } | null = null;

/**
 * The process environment, parsed; parsed again only when a variable
 * changed (tests stub them). The Node entry calls it before anything else,
 * so a malformed value stops startup. Checking every variable for a change
 * costs tens of µs (each `process.env` read is a call into Node, ~1.3 µs
 * measured): per request, read one
 * with {@link envValue}.
 */
export function appEnv(): AppEnv {
  if (cached && ENV_NAMES.every((name) => process.env[name] === cached!.raw[name])) return cached.env;
  const raw: Record<string, string | undefined> = {};
  for (const name of ENV_NAMES) raw[name] = process.env[name];
  cached = { raw, env: parse(raw) };
  return cached.env;
}

/**
 * One variable of the parsed process environment (what {@link appEnv}
 * holds), checking only that variable for a change: one `process.env`
 * read (~1 µs), so cheap enough for every request.
 */
export function envValue<K extends keyof AppEnv>(name: K): AppEnv[K] {
  if (cached && process.env[name] === cached.raw[name]) return cached.env[name];
  return appEnv()[name];
}

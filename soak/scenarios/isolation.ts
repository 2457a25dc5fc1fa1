import { createClientPool } from '../lib/clientPool';
import { inScope, type GroupFilter, type StreamView } from '../lib/oracle';
import type { StreamSpec } from '../lib/protocol';
import { int, ms, quietLog, recordCheck, until, type Check, type Log, type ScenarioResult } from '../lib/scenario';
import { startSoakServer, type PublishItem } from '../lib/server';
import { sessionCookie } from '../lib/sessions';
import { mulberry32 } from '../lib/random';

/** Parameters of the isolation fuzz. */
export interface IsolationParams {
  readonly tenants: number;
  readonly connections: number;
  readonly publishes: number;
  /** Publishes per second. */
  readonly rate: number;
  /** Publishes per IPC message to the server host. */
  readonly batch: number;
  readonly processes: number;
  readonly seed: number;
}

export const full: IsolationParams = { tenants: 50, connections: 1000, publishes: 100_000, rate: 5000, batch: 500, processes: 2, seed: 7 };
export const ci: IsolationParams = { tenants: 10, connections: 120, publishes: 6000, rate: 3000, batch: 300, processes: 1, seed: 7 };

/** Topics publishes use. */
const TOPICS = [
  'orders',
  'orders.eu',
  'orders.eu.paris',
  'orders.us',
  'orders.us.nyc',
  'products',
  'products.stock',
  'products.price',
  'notifications',
  'notifications.user',
  'imports.progress',
  'imports.done',
  'billing.invoice',
  'billing.refund',
  'audit.log.write',
] as const;
/** Patterns streams ask for or tokens allow. */
const PATTERNS = [
  'orders',
  'orders.*',
  'orders.>',
  'orders.eu.*',
  '*.stock',
  'products.>',
  'notifications',
  'notifications.*',
  'billing.*',
  '*',
  'audit.>',
  'imports.*',
  '*.*.paris',
  '*.us.>',
] as const;
const USERS = ['u0', 'u1', 'u2', 'u3', 'u4'] as const;

type Conn = StreamSpec & {
  /** Asks for topics its token does not allow: only checked for leaks, not counted (the server narrows or refuses it). */
  readonly hostile: boolean;
};

/**
 * Isolation fuzz: random publishes across many tenants, group filters and
 * topics against streams with random tenants, users, roles, topic patterns
 * and token topic claims. Every frame a client receives is checked on
 * arrival against its own scope ∩ groups ∩ topics (a reference matcher,
 * not the hub's); the count per stream is compared with what the reference
 * says it should get.
 */
export async function run(params: IsolationParams = full, log: Log = quietLog): Promise<ScenarioResult> {
  const started = Date.now();
  const server = await startSoakServer();
  const pool = await createClientPool({ url: server.url, processes: params.processes, checkIsolation: true });
  try {
    const random = mulberry32(params.seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const some = <T>(list: readonly T[], max: number): T[] => {
      const n = 1 + Math.floor(random() * max);
      return [...new Set(Array.from({ length: n }, () => pick(list)))];
    };
    const tenants = Array.from({ length: params.tenants }, (_, t) => `iso-${t}`);

    const conns: Conn[] = [];
    for (let key = 0; key < params.connections; key++) {
      const scope = tenants[key % tenants.length]!;
      const userId = pick(USERS);
      const role = random() < 0.3 ? 'admin' : 'staff';
      const r = random();
      let topics: string[] | undefined;
      let allowed: string[] | undefined;
      let hostile = false;
      if (r < 0.35) {
        // everything in the tenant
      } else if (r < 0.75) {
        topics = some(PATTERNS, 3);
      } else if (r < 0.95) {
        allowed = some(PATTERNS, 2);
      } else {
        // A token limited to some topics whose holder asks for everything else too.
        allowed = some(PATTERNS, 2);
        topics = ['>', ...some(PATTERNS, 2)];
        hostile = true;
      }
      const view: StreamView = { scope, groups: { user: userId, role }, ...(topics ? { topics } : {}), ...(allowed ? { allowed } : {}) };
      conns.push({ key, cookie: await sessionCookie({ tenantId: scope, userId, role, ...(allowed ? { topics: allowed } : {}) }), view, hostile });
    }
    // A canary: a stream of the first tenant that receives everything there, checked as if it had asked for
    // `orders` only. It must report violations, or the check would be blind.
    const canary: Conn = {
      key: params.connections,
      cookie: await sessionCookie({ tenantId: tenants[0]!, userId: 'u0', role: 'admin' }),
      view: { scope: tenants[0]!, groups: { user: 'u0', role: 'admin' } },
      checkView: { scope: tenants[0]!, groups: { user: 'u0', role: 'admin' }, topics: ['orders'] },
      hostile: true,
    };
    const opened = await pool.open([...conns, canary], 200);
    const openStats = await pool.stats();
    log(`isolation: ${opened.opened} streams open, ${opened.failed} refused (${JSON.stringify(openStats.serializedErrors)})`);

    // The publishes, and what the reference says each stream should receive.
    const expected = new Map<number, number>(conns.map((c) => [c.key, 0]));
    const byScope = new Map<string, Conn[]>();
    for (const c of conns) {
      const list = byScope.get(c.view.scope) ?? [];
      list.push(c);
      byScope.set(c.view.scope, list);
    }
    const ghostScopes = ['ghost', 'iso-', 'ISO-1', 'iso-1 ', 'iso-1.orders', `iso-${params.tenants}`, 'iso-01'];
    const items: PublishItem[] = [];
    let ghosts = 0;
    for (let n = 0; n < params.publishes; n++) {
      const ghost = random() < 0.02;
      const scope = ghost ? pick(ghostScopes) : pick(tenants);
      if (ghost) ghosts++;
      const topic = pick(TOPICS);
      const g = random();
      let groups: GroupFilter | undefined;
      if (g < 0.6) groups = undefined;
      else if (g < 0.75) groups = { role: random() < 0.5 ? 'admin' : 'staff' };
      else if (g < 0.85) groups = { user: pick(USERS) };
      else if (g < 0.92) groups = { user: some(USERS, 2) };
      else if (g < 0.97) groups = { user: pick(USERS), role: 'admin' };
      else groups = { plan: 'pro' }; // an attribute no stream has: nobody
      items.push({
        scope,
        signal: { kind: 'invalidate', resource: 'iso', id: String(n), action: 'updated', hint: { s: scope, tp: topic, ...(groups ? { g: groups } : {}), n } },
        options: { topic, ...(groups ? { groups } : {}) },
      });
      for (const c of byScope.get(scope) ?? []) {
        if (!c.hostile && inScope(c.view, { scope, topic, groups })) expected.set(c.key, expected.get(c.key)! + 1);
      }
    }

    const publishStarted = Date.now();
    let refusedPublishes = 0;
    for (let i = 0; i < items.length; i += params.batch) {
      const seqs = await server.publish(items.slice(i, i + params.batch));
      refusedPublishes += seqs.filter((s) => s < 0).length;
      const due = publishStarted + ((i + params.batch) / params.rate) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const publishMs = Date.now() - publishStarted;
    log(`isolation: ${int(items.length)} publishes in ${ms(publishMs)} (${refusedPublishes} refused)`);

    // Judged against the harness's record of the publishes (receipts), not the runner's count: the streams that asked within their token.
    const judged = conns.filter((c) => !c.hostile).map((c) => c.key);
    const { entries: recorded, failures } = await server.published();
    // Let deliveries land (bounded; the oracle decides).
    const settledMs = await until(
      async () => (await pool.verify(recorded, { keys: judged })).lost === 0,
      'every stream to receive what the record says',
      60_000,
      250,
    ).catch(() => NaN);
    const verify = await pool.verify(recorded, { keys: judged });
    const counts = await pool.counts();
    const stats = await pool.stats();
    let expectedTotal = 0;
    let received = 0;
    for (const c of conns) {
      received += counts.get(c.key)?.data ?? 0;
      if (!c.hostile) expectedTotal += expected.get(c.key)!;
    }
    const canaryViolations = counts.get(canary.key)?.violations ?? 0;
    const violations = stats.violations - canaryViolations;
    const hostile = conns.filter((c) => c.hostile).length + 1;
    const checks: Check[] = [
      {
        name: 'deliveries outside a stream’s scope ∩ groups ∩ topics',
        pass: violations === 0 && received > 0,
        value: violations === 0 ? `0 of ${int(received)} frames` : `${violations}: ${stats.violationSamples.find((v) => !v.startsWith(`stream ${canary.key} `))}`,
        target: '0',
      },
      {
        name: 'the check catches a leak (canary stream checked against a narrower view)',
        pass: canaryViolations > 0,
        value: `${int(canaryViolations)} violations reported by the canary`,
        target: '> 0',
      },
      {
        name: 'every stream opened (except tokens whose topics exclude all it asked for)',
        pass: opened.failed === (openStats.serializedErrors.FORBIDDEN ?? 0) && opened.failed <= hostile - 1,
        value: `${int(opened.opened)} opened, ${opened.failed} refused FORBIDDEN (of ${hostile - 1} over-asking streams)`,
        target: 'only FORBIDDEN refusals',
      },
      {
        name: 'every publish recorded with its receipt',
        pass: recorded.length === params.publishes - refusedPublishes && failures === refusedPublishes,
        value: `${int(recorded.length)} recorded, ${int(refusedPublishes)} refused, of ${int(params.publishes)}`,
        target: 'every accepted publish',
      },
      (() => {
        const check = recordCheck('each stream received exactly the recorded publishes it may receive (record oracle)', verify, judged.length);
        const exact = verify.expected === expectedTotal && stats.resets === 0;
        return {
          ...check,
          pass: check.pass && exact,
          value: `${check.value}; the runner's own count from what it sent: ${int(expectedTotal)}; ${stats.resets} resets`,
          target: `${check.target}, = the runner's count, 0 resets`,
        };
      })(),
    ];
    return {
      name: 'isolation',
      title: 'Isolation fuzz',
      params: { ...params },
      summary:
        `${int(params.publishes)} random publishes (${params.tenants} tenants + ${int(ghosts)} to look-alike/absent tenants, random group ` +
        `filters and topics) against ${int(params.connections)} streams with random users, roles, patterns and token topic claims: ` +
        `${violations} deliveries outside scope of ${int(received)} received; against the harness's record of ${int(recorded.length)} publishes: ` +
        `${verify.lost} lost, ${verify.unexpected} not in the record, ${verify.duplicates} duplicates over ${int(verify.expected)} (stream, publish) pairs`,
      checks,
      figures: {
        opened: opened.opened,
        refused: opened.failed,
        serializedErrors: openStats.serializedErrors,
        hostile,
        ghosts,
        publishMs,
        refusedPublishes,
        received,
        expectedTotal,
        recorded: recorded.length,
        verify,
        resets: stats.resets,
        violations,
        canaryViolations,
        violationSamples: stats.violationSamples.filter((v) => !v.startsWith(`stream ${canary.key} `)),
        settledMs,
      },
      method: [
        `${int(params.connections)} raw SSE streams over ${params.tenants} tenants (\`iso-0\`…), each with a random user of 5 and role, ` +
          'and one of: everything (35 %), 1-3 random topic patterns as input (40 %), a session token whose `topics` claim allows 1-2 ' +
          'patterns (20 %), or such a token whose holder also asks for `>` and other patterns (5 %: only checked for leaks; the server ' +
          'narrows the request to what the token allows, or refuses it with FORBIDDEN when nothing is left).',
        `${int(params.publishes)} invalidations are published through the app's hub at ${int(params.rate)}/s, each to a random tenant ` +
          '(2 % to look-alike or absent ones: `ISO-1`, `iso-1 `, `iso-1.orders`, `iso-01`…), on a random topic, with a random group ' +
          'filter (none 60 %, a role, a user, a list of users, user and role, or an attribute nobody has). Each carries its routing ' +
          'in its hint; every client checks every frame against its own tenant, groups, asked patterns and token claim with a ' +
          'reference matcher written apart from the hub. Then the record oracle compares, for every stream, the set of frames it ' +
          "received with the recorded publishes (receipts from the hub's API) its tenant, groups and topics select: none lost, none " +
          "extra, none twice; the total must also equal the runner's own count from what it sent.",
      ],
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await pool.shutdown();
    await server.stop();
  }
}

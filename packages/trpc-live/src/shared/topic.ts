import { LiveError } from './errors.ts';

/** Longest topic or pattern accepted, in characters. */
export const MAX_TOPIC_LENGTH = 200;
/** Most `.`-separated tokens in a topic or pattern. */
export const MAX_TOPIC_TOKENS = 16;

// Tokens are printable, without whitespace, and never contain the separator.
const TOKEN_RE = /^[A-Za-z0-9_:@#~+\-/=]+$/;

function tokensOf(value: string, what: 'topic' | 'pattern'): string[] {
  if (typeof value !== 'string' || value.length === 0) {
    throw new LiveError('BAD_TOPIC', `A ${what} must be a non-empty string`);
  }
  if (value.length > MAX_TOPIC_LENGTH) {
    throw new LiveError('BAD_TOPIC', `A ${what} is limited to ${MAX_TOPIC_LENGTH} characters`);
  }
  const tokens = value.split('.');
  if (tokens.length > MAX_TOPIC_TOKENS) {
    throw new LiveError('BAD_TOPIC', `A ${what} is limited to ${MAX_TOPIC_TOKENS} tokens`);
  }
  return tokens;
}

/** Why `token` (the `i`-th, from 1) is invalid, or `null`. */
function tokenProblem(token: string, i: number): string | null {
  if (token.length === 0) return `token ${i} is empty (two dots in a row, or a dot at the start or end)`;
  if (TOKEN_RE.test(token)) return null;
  if (token.includes('*') || token.includes('>')) {
    return `token ${i} "${token}" mixes a wildcard with other characters; "*" and ">" must stand alone`;
  }
  return `token ${i} "${token}" has characters outside [A-Za-z0-9_:@#~+-/=]`;
}

/**
 * Validates a concrete topic (what a signal is published on): `.`-separated
 * non-empty tokens of `[A-Za-z0-9_:@#~+-/=]`, no wildcards.
 * @throws LiveError BAD_TOPIC with a message that names the problem.
 */
export function assertTopic(topic: string): string[] {
  const tokens = tokensOf(topic, 'topic');
  tokens.forEach((token, i) => {
    if (token === '*' || token === '>') {
      throw new LiveError('BAD_TOPIC', `Topic "${topic}" contains the wildcard "${token}"; wildcards are only for subscriptions`);
    }
    const problem = tokenProblem(token, i + 1);
    if (problem) throw new LiveError('BAD_TOPIC', `Topic "${topic}": ${problem}`);
  });
  return tokens;
}

/**
 * Validates a subscription pattern with NATS-style wildcards: `*` matches
 * exactly one token, `>` one or more trailing tokens and only as the last token.
 * @throws LiveError BAD_TOPIC with a message that names the problem.
 */
export function assertPattern(pattern: string): string[] {
  const tokens = tokensOf(pattern, 'pattern');
  tokens.forEach((token, i) => {
    if (token === '>') {
      if (i !== tokens.length - 1) {
        throw new LiveError('BAD_TOPIC', `Pattern "${pattern}": ">" is only allowed as the last token`);
      }
      return;
    }
    if (token === '*') return;
    const problem = tokenProblem(token, i + 1);
    if (problem) throw new LiveError('BAD_TOPIC', `Pattern "${pattern}": ${problem}`);
  });
  return tokens;
}

/** True when the concrete `topic` matches `pattern` (both assumed valid). */
export function matchTopic(pattern: string, topic: string): boolean {
  const p = pattern.split('.');
  const t = topic.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return t.length > i;
    if (i >= t.length) return false;
    if (token !== '*' && token !== t[i]) return false;
  }
  return p.length === t.length;
}

/**
 * The pattern matching exactly the topics both NATS-style patterns match
 * (`*`: one token, `>`: one or more trailing tokens), or `null` when no
 * topic matches both.
 */
export function intersectPatterns(a: string, b: string): string | null {
  const x = a.split('.');
  const y = b.split('.');
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const s = x[i];
    const t = y[i];
    if (s === '>' && t === '>') return [...out, '>'].join('.');
    // `>` takes whatever the other has left, which must be at least one token.
    if (s === '>') return t === undefined ? null : [...out, ...y.slice(i)].join('.');
    if (t === '>') return s === undefined ? null : [...out, ...x.slice(i)].join('.');
    if (s === undefined || t === undefined) return s === t ? out.join('.') : null;
    if (s === '*') out.push(t);
    else if (t === '*' || t === s) out.push(s);
    else return null;
  }
}

/** True when every topic matched by `inner` is also matched by `outer`. */
export function covers(outer: string, inner: string): boolean {
  const o = outer.split('.');
  const i = inner.split('.');
  for (let k = 0; k < o.length; k++) {
    const token = o[k];
    if (token === '>') return i.length > k;
    const other = i[k];
    if (other === undefined || other === '>') return false;
    if (token !== '*' && (other === '*' || other !== token)) return false;
  }
  return o.length === i.length;
}

import { assertPattern, assertTopic } from '../shared/topic.ts';

interface Node<T> {
  children: Map<string, Node<T>>;
  /** Subscribers whose pattern ends exactly here. */
  exact: Set<T>;
  /** Subscribers whose pattern is this path followed by `>`. */
  tail: Set<T>;
}

const node = <T>(): Node<T> => ({ children: new Map(), exact: new Set(), tail: new Set() });

/**
 * A trie from subscription patterns to subscribers. Matching walks only the
 * branches a topic can reach (exact token, `*`, `>`), so its cost follows the
 * number of matching subscribers, not the number registered.
 */
export class TopicIndex<T> {
  private readonly root: Node<T> = node();
  private count = 0;

  /** Number of (pattern, subscriber) registrations. */
  get size(): number {
    return this.count;
  }

  /** Registers `item` under `pattern`. @throws LiveError BAD_TOPIC */
  add(pattern: string, item: T): void {
    const tokens = assertPattern(pattern);
    let at = this.root;
    for (const token of tokens) {
      if (token === '>') {
        if (!at.tail.has(item)) this.count++;
        at.tail.add(item);
        return;
      }
      let next = at.children.get(token);
      if (!next) {
        next = node();
        at.children.set(token, next);
      }
      at = next;
    }
    if (!at.exact.has(item)) this.count++;
    at.exact.add(item);
  }

  /** Removes `item` from `pattern`, pruning empty branches. */
  remove(pattern: string, item: T): void {
    const tokens = pattern.split('.');
    const path: Array<[Node<T>, string]> = [];
    let at: Node<T> | undefined = this.root;
    for (const token of tokens) {
      if (token === '>') {
        if (at.tail.delete(item)) this.count--;
        this.prune(path, at);
        return;
      }
      const next: Node<T> | undefined = at.children.get(token);
      if (!next) return;
      path.push([at, token]);
      at = next;
    }
    if (at.exact.delete(item)) this.count--;
    this.prune(path, at);
  }

  private prune(path: Array<[Node<T>, string]>, leaf: Node<T>): void {
    let child = leaf;
    for (let i = path.length - 1; i >= 0; i--) {
      if (child.children.size || child.exact.size || child.tail.size) return;
      const [parent, token] = path[i]!;
      parent.children.delete(token);
      child = parent;
    }
  }

  /**
   * Calls `visit` for every subscriber with a pattern matching `topic`. A
   * subscriber registered under several matching patterns is visited once per
   * pattern; callers dedupe (the fan-out stamps connections per route).
   * @throws LiveError BAD_TOPIC for an invalid topic.
   */
  match(topic: string, visit: (item: T) => void): void {
    const tokens = assertTopic(topic);
    this.walk(this.root, tokens, 0, visit);
  }

  private walk(at: Node<T>, tokens: string[], i: number, visit: (item: T) => void): void {
    // `>` needs at least one more token.
    if (i < tokens.length) for (const item of at.tail) visit(item);
    if (i === tokens.length) {
      for (const item of at.exact) visit(item);
      return;
    }
    const token = tokens[i]!;
    const exact = at.children.get(token);
    if (exact) this.walk(exact, tokens, i + 1, visit);
    const star = at.children.get('*');
    if (star) this.walk(star, tokens, i + 1, visit);
  }
}

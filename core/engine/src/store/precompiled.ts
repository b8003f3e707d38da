import type { Compilable, CompiledQuery } from 'kysely';
import type { Db } from './open.js';

/**
 * A read whose SQL kysely builds and compiles once: each call only binds its arguments. Building and
 * compiling a query with a join costs ~40 µs, several times what SQLite needs to run it, and the hot reads
 * (a cluster by name, on every API call) have a fixed shape. Arguments must be scalars that stand in the
 * query as plain parameters: the query is built once with placeholders and each one's position is found.
 */
export function precompiled<A extends readonly (string | number)[], R>(
  db: Db,
  build: (...args: A) => Compilable<R>,
): (...args: A) => Promise<R[]> {
  let compiled: { query: CompiledQuery<R>; slots: Array<number | undefined> } | undefined;
  return async (...args: A) => {
    if (!compiled) {
      const placeholders = args.map((_, i) => `\u0000slipway-arg-${i}\u0000`) as unknown as A;
      const query = build(...placeholders).compile();
      const slots = query.parameters.map((p) => {
        const i = placeholders.indexOf(p as never);
        return i >= 0 ? i : undefined;
      });
      if (slots.filter((s) => s !== undefined).length !== args.length) {
        throw new Error('precompiled: every argument must appear once as a query parameter');
      }
      compiled = { query, slots };
    }
    const { query, slots } = compiled;
    const parameters = query.parameters.map((p, i) => (slots[i] === undefined ? p : args[slots[i]!]));
    return (await db.executeQuery<R>({ ...query, parameters })).rows;
  };
}

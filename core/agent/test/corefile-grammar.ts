/**
 * A reader of CoreDNS's Corefile, written from its documented grammar (CoreDNS manual, "Configuration",
 * and the Caddyfile syntax CoreDNS inherits from Caddy 1), strict where the documentation is:
 *
 * - A Corefile is a list of server blocks. A server block starts with one or more keys (zones, optionally
 *   `scheme://zone:port`, separated by spaces or commas) and `{`, and ends with `}`.
 * - Inside, one directive (a plugin) per line: its name, then its arguments, separated by white space.
 * - A directive's block opens with `{` as the LAST token of the directive's line and closes with `}` on a
 *   line of its own; blocks nest (one directive per line inside them too).
 * - A token is a run of non-space characters, or a double-quoted string (`\"` escapes a quote, and it may
 *   span lines). `#` starts a comment up to the end of the line, where a token would start.
 * - There is no statement separator: `;` is an ordinary character of a token.
 *
 * Used by the tests to check the Corefile the coredns job renders, the way CoreDNS would read it.
 */

export interface CorefileToken {
  text: string;
  line: number;
  quoted: boolean;
}

export interface CorefileDirective {
  name: string;
  args: string[];
  line: number;
  /** The directive's block, when it has one. */
  block?: CorefileDirective[];
}

export interface CorefileServerBlock {
  keys: string[];
  directives: CorefileDirective[];
}

export class CorefileSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`Corefile line ${line}: ${message}`);
  }
}

/** Splits a Corefile into tokens, each with the line it starts on. */
export function tokenize(text: string): CorefileToken[] {
  const tokens: CorefileToken[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '"') {
      const start = line;
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new CorefileSyntaxError(start, 'unterminated quoted string');
        const q = text[i]!;
        if (q === '\\' && text[i + 1] === '"') {
          value += '"';
          i += 2;
          continue;
        }
        if (q === '"') {
          i++;
          break;
        }
        if (q === '\n') line++;
        value += q;
        i++;
      }
      tokens.push({ text: value, line: start, quoted: true });
      continue;
    }
    let value = '';
    while (i < text.length && !/\s/.test(text[i]!)) value += text[i++];
    tokens.push({ text: value, line, quoted: false });
  }
  return tokens;
}

/** Parses a Corefile into its server blocks; throws a `CorefileSyntaxError` naming the line of the first problem. */
export function parseCorefile(text: string): CorefileServerBlock[] {
  const lines = groupByLine(tokenize(text));
  const blocks: CorefileServerBlock[] = [];
  let at = 0;
  while (at < lines.length) {
    const head = lines[at]!;
    const last = head.at(-1)!;
    if (!isOpen(last))
      throw new CorefileSyntaxError(
        last.line,
        `a server block's keys must be followed by '{' on the same line (found "${last.text}")`,
      );
    const keys = head
      .slice(0, -1)
      .flatMap((t) => t.text.split(','))
      .filter(Boolean);
    if (!keys.length)
      throw new CorefileSyntaxError(last.line, 'a server block needs at least one key (a zone such as ".:53")');
    const bad = head.slice(0, -1).find((t) => isBrace(t));
    if (bad) throw new CorefileSyntaxError(bad.line, `unexpected "${bad.text}" among a server block's keys`);
    const { directives, next } = parseBody(lines, at + 1, last.line);
    blocks.push({ keys, directives });
    at = next;
  }
  return blocks;
}

function parseBody(
  lines: CorefileToken[][],
  from: number,
  openedAt: number,
): { directives: CorefileDirective[]; next: number } {
  const directives: CorefileDirective[] = [];
  let at = from;
  while (at < lines.length) {
    const tokens = lines[at]!;
    const first = tokens[0]!;
    if (isClose(first)) {
      if (tokens.length > 1) throw new CorefileSyntaxError(first.line, "'}' must be on a line of its own");
      return { directives, next: at + 1 };
    }
    const opens = isOpen(tokens.at(-1)!);
    const inner = tokens.slice(1, opens ? -1 : undefined);
    const brace = [first, ...inner].find((t) => isBrace(t));
    if (brace) {
      throw new CorefileSyntaxError(
        brace.line,
        brace.text === '{'
          ? `'{' must be the last token of its line (the directive "${first.text}" continues after it)`
          : "'}' must be on a line of its own",
      );
    }
    const directive: CorefileDirective = { name: first.text, args: inner.map((t) => t.text), line: first.line };
    at++;
    if (opens) {
      const body = parseBody(lines, at, first.line);
      directive.block = body.directives;
      at = body.next;
    }
    directives.push(directive);
  }
  throw new CorefileSyntaxError(openedAt, "the '{' opened here is never closed");
}

function groupByLine(tokens: CorefileToken[]): CorefileToken[][] {
  const lines: CorefileToken[][] = [];
  for (const token of tokens) {
    const current = lines.at(-1);
    if (current && current[0]!.line === token.line) current.push(token);
    else lines.push([token]);
  }
  return lines;
}

function isOpen(token: CorefileToken): boolean {
  return !token.quoted && token.text === '{';
}

function isClose(token: CorefileToken): boolean {
  return !token.quoted && token.text === '}';
}

function isBrace(token: CorefileToken): boolean {
  return !token.quoted && (token.text === '{' || token.text === '}');
}

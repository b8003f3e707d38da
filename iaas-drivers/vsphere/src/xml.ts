/**
 * A small XML reader and writer, enough for SOAP: elements, attributes, text, CDATA, comments and the five
 * predefined entities plus numeric character references. No DTDs and no entity expansion beyond those, so a
 * hostile body cannot make the parser fetch or grow anything.
 */

/** An element: local name, the prefix it was written with, attributes by qualified name, children, text. */
export interface XmlElement {
  readonly name: string;
  readonly prefix: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  /** The concatenated character data directly inside this element (not trimmed). */
  text: string;
}

/** A body that is not well-formed XML. */
export class XmlSyntaxError extends Error {
  override readonly name = 'XmlSyntaxError';
}

const NAME_END = /[\s/>]/g;
const ATTRIBUTE = /\s*([^\s=/>]+)\s*=\s*("([^"]*)"|'([^']*)')/y;

/** Parses a document and returns its root element. */
export function parseXml(source: string): XmlElement {
  const stack: Array<{ element: XmlElement; qname: string }> = [];
  let root: XmlElement | undefined;
  let i = 0;
  const length = source.length;
  while (i < length) {
    const lt = source.indexOf('<', i);
    if (lt === -1) {
      appendText(stack, source.slice(i));
      break;
    }
    if (lt > i) appendText(stack, source.slice(i, lt));
    if (source.startsWith('<?', lt)) {
      i = endOf(source, '?>', lt);
      continue;
    }
    if (source.startsWith('<!--', lt)) {
      i = endOf(source, '-->', lt);
      continue;
    }
    if (source.startsWith('<![CDATA[', lt)) {
      const end = source.indexOf(']]>', lt + 9);
      if (end === -1) throw new XmlSyntaxError('unterminated CDATA section');
      const top = stack[stack.length - 1];
      if (top) top.element.text += source.slice(lt + 9, end);
      i = end + 3;
      continue;
    }
    if (source.startsWith('<!', lt)) throw new XmlSyntaxError('document type declarations are not accepted');
    if (source[lt + 1] === '/') {
      const gt = source.indexOf('>', lt);
      if (gt === -1) throw new XmlSyntaxError('unterminated end tag');
      const qname = source.slice(lt + 2, gt).trim();
      const open = stack.pop();
      if (!open || open.qname !== qname)
        throw new XmlSyntaxError(`end tag </${qname}> does not match <${open?.qname ?? ''}>`);
      if (stack.length === 0) root = open.element;
      i = gt + 1;
      continue;
    }
    NAME_END.lastIndex = lt + 1;
    const nameEnd = NAME_END.exec(source);
    if (!nameEnd) throw new XmlSyntaxError('unterminated start tag');
    const qname = source.slice(lt + 1, nameEnd.index);
    if (qname === '') throw new XmlSyntaxError(`empty element name at ${lt}`);
    const attrs: Record<string, string> = {};
    let j = nameEnd.index;
    for (;;) {
      ATTRIBUTE.lastIndex = j;
      const match = ATTRIBUTE.exec(source);
      if (!match) break;
      attrs[match[1]!] = decodeEntities(match[3] ?? match[4] ?? '');
      j = ATTRIBUTE.lastIndex;
    }
    while (j < length && /\s/.test(source[j]!)) j++;
    const selfClosing = source[j] === '/';
    if (selfClosing) j++;
    if (source[j] !== '>') throw new XmlSyntaxError(`malformed start tag <${qname}> at ${lt}`);
    const colon = qname.indexOf(':');
    const element: XmlElement = {
      name: colon === -1 ? qname : qname.slice(colon + 1),
      prefix: colon === -1 ? '' : qname.slice(0, colon),
      attrs,
      children: [],
      text: '',
    };
    const parent = stack[stack.length - 1];
    if (parent) parent.element.children.push(element);
    else if (root || stack.length > 0) throw new XmlSyntaxError('more than one root element');
    if (selfClosing) {
      if (!parent) root = element;
    } else {
      stack.push({ element, qname });
    }
    i = j + 1;
  }
  if (stack.length > 0) throw new XmlSyntaxError(`unclosed element <${stack[stack.length - 1]!.qname}>`);
  if (!root) throw new XmlSyntaxError('no root element');
  return root;
}

function appendText(stack: Array<{ element: XmlElement }>, raw: string): void {
  const top = stack[stack.length - 1];
  if (top) top.element.text += decodeEntities(raw);
}

function endOf(source: string, terminator: string, from: number): number {
  const end = source.indexOf(terminator, from);
  if (end === -1) throw new XmlSyntaxError(`unterminated ${source.slice(from, from + 4)}`);
  return end + terminator.length;
}

const ENTITY = /&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(ENTITY, (_, entity: string) => {
    if (entity[0] !== '#') return NAMED[entity]!;
    const code = entity[1] === 'x' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
    return String.fromCodePoint(code);
  });
}

/** Escapes text for element content and double-quoted attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;',
  );
}

/** The first child with this local name. */
export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.name === name);
}

/** Every child with this local name, in document order. */
export function children(element: XmlElement | undefined, name: string): XmlElement[] {
  return element ? element.children.filter((c) => c.name === name) : [];
}

/** The text of the first child with this local name. */
export function childText(element: XmlElement | undefined, name: string): string | undefined {
  return child(element, name)?.text;
}

/**
 * The element's `xsi:type`, without its prefix (`xsd:string` -> `string`). An unprefixed `type` attribute is
 * not an xsi:type: vim25 uses it for the type of a managed object reference.
 */
export function xsiType(element: XmlElement | undefined): string | undefined {
  if (!element) return undefined;
  for (const [qname, value] of Object.entries(element.attrs)) {
    if (qname.endsWith(':type')) {
      const colon = value.indexOf(':');
      return colon === -1 ? value : value.slice(colon + 1);
    }
  }
  return undefined;
}

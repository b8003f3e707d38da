/**
 * EC2 Query API responses as XML. A response is a plain object: keys become elements in order, arrays become
 * EC2's `<name><item>...</item></name>` lists, `undefined` is left out, primitives are escaped text.
 */
export type XmlValue = string | number | boolean | null | undefined | XmlObject | XmlValue[];
export interface XmlObject {
  [name: string]: XmlValue;
}

/** The namespace of EC2 API version 2016-11-15, the one every SDK speaks. */
export const EC2_NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export function responseXml(action: string, requestId: string, body: XmlObject): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_NAMESPACE}">${element('requestId', requestId)}${children(body)}</${action}Response>`;
}

/** EC2's error document: note `RequestID`, capitalised unlike the success responses' `requestId`. */
export function errorXml(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>${element('Code', code)}${element('Message', message)}</Error></Errors>${element('RequestID', requestId)}</Response>`;
}

function children(object: XmlObject): string {
  let out = '';
  for (const [name, value] of Object.entries(object)) out += element(name, value);
  return out;
}

function element(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (value === null) return `<${name}/>`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `<${name}/>`;
    return `<${name}>${value.map((item) => element('item', item)).join('')}</${name}>`;
  }
  if (typeof value === 'object') return `<${name}>${children(value)}</${name}>`;
  return `<${name}>${escape(String(value))}</${name}>`;
}

function escape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** An EC2 tag set. */
export function tagSet(tags: Map<string, string>): XmlObject[] {
  return [...tags].map(([key, value]) => ({ key, value }));
}

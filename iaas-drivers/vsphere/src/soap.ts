import { child, escapeXml, parseXml, type XmlElement } from './xml.js';

/** The vim25 namespace every request and response element lives in. */
export const VIM25_NS = 'urn:vim25';
export const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
export const XSD_NS = 'http://www.w3.org/2001/XMLSchema';

/** A managed object reference: `<obj type="VirtualMachine">vm-42</obj>`. */
export interface MoRef {
  readonly type: string;
  readonly value: string;
}

/**
 * A vim25 data object. Fields are written in insertion order, which must be the XSD sequence of the type
 * (vCenter's deserializer refuses fields out of order), so every literal in specs.ts lists them that way.
 */
export interface SoapData {
  readonly $type: string;
  readonly $fields: Readonly<Record<string, SoapValue>>;
}

/** A primitive written with an explicit `xsi:type`, for fields declared `xsd:anyType` (OptionValue.value). */
export interface SoapTyped {
  readonly $xsd: 'string' | 'int' | 'long' | 'boolean';
  readonly value: string | number | boolean;
}

/** What a request argument or data-object field may hold. `undefined` and `null` are left out. */
export type SoapValue =
  | string
  | number
  | boolean
  | MoRef
  | SoapData
  | SoapTyped
  | readonly SoapValue[]
  | undefined
  | null;

/** A data object of vim25 type `type`; `fields` in XSD order. */
export function data(type: string, fields: Record<string, SoapValue>): SoapData {
  return { $type: type, $fields: fields };
}

export function moRef(type: string, value: string): MoRef {
  return { type, value };
}

export function xsdString(value: string): SoapTyped {
  return { $xsd: 'string', value };
}

function isMoRef(value: object): value is MoRef {
  return 'type' in value && 'value' in value && !('$type' in value) && !('$xsd' in value);
}

function writeValue(out: string[], name: string, value: SoapValue): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value as readonly SoapValue[]) writeValue(out, name, item);
    return;
  }
  switch (typeof value) {
    case 'string':
      out.push(`<${name}>${escapeXml(value)}</${name}>`);
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${name}: ${value} is not a finite number`);
      out.push(`<${name}>${Number.isInteger(value) ? value.toFixed(0) : String(value)}</${name}>`);
      return;
    case 'boolean':
      out.push(`<${name}>${value ? 'true' : 'false'}</${name}>`);
      return;
    case 'object': {
      const object = value as MoRef | SoapData | SoapTyped;
      if ('$xsd' in object) {
        out.push(`<${name} xsi:type="xsd:${object.$xsd}">${escapeXml(String(object.value))}</${name}>`);
      } else if ('$type' in object) {
        out.push(`<${name} xsi:type="${escapeXml(object.$type)}">`);
        for (const [field, fieldValue] of Object.entries(object.$fields)) writeValue(out, field, fieldValue);
        out.push(`</${name}>`);
      } else if (isMoRef(object)) {
        out.push(`<${name} type="${escapeXml(object.type)}">${escapeXml(object.value)}</${name}>`);
      }
      return;
    }
    default:
      throw new TypeError(`${name}: cannot write a ${typeof value}`);
  }
}

/**
 * The SOAP 1.1 envelope of one vim25 method call: `<Method xmlns="urn:vim25"><_this type=…>…</_this>args…</Method>`.
 * Arguments are written in the order given, which must be the method's parameter order.
 */
export function envelope(method: string, self: MoRef, args: Record<string, SoapValue> = {}): string {
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV_NS}" xmlns:xsd="${XSD_NS}" xmlns:xsi="${XSI_NS}">`,
    `<soapenv:Body><${method} xmlns="${VIM25_NS}">`,
  ];
  writeValue(out, '_this', self);
  for (const [name, value] of Object.entries(args)) writeValue(out, name, value);
  out.push(`</${method}></soapenv:Body></soapenv:Envelope>`);
  return out.join('');
}

/** The element inside `soapenv:Body` of a response or request, or undefined when the body is not a SOAP envelope. */
export function bodyContent(text: string): XmlElement | undefined {
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch {
    return undefined;
  }
  if (root.name !== 'Envelope') return undefined;
  return child(root, 'Body')?.children[0];
}

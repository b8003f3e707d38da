import { escapeXml } from '../src/xml.js';
import type { MoRef } from '../src/soap.js';

/**
 * Writers of the XML the fake answers with, in vCenter's shape. Fragments are plain strings; every text
 * and attribute goes through escapeXml.
 */

/** `<name>text</name>`; nothing for undefined. */
export function el(name: string, value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** `<name type="T">value</name>`, plus `xsi:type="ManagedObjectReference"` where the declared type is anyType. */
export function ref(name: string, value: MoRef | undefined, withXsiType = false): string {
  if (!value) return '';
  return `<${name} type="${escapeXml(value.type)}"${withXsiType ? ' xsi:type="ManagedObjectReference"' : ''}>${escapeXml(value.value)}</${name}>`;
}

/** A data object: `<name xsi:type="Type">fields…</name>`. */
export function obj(name: string, type: string | undefined, ...fields: string[]): string {
  return `<${name}${type ? ` xsi:type="${escapeXml(type)}"` : ''}>${fields.join('')}</${name}>`;
}

/** A value of a property (`DynamicProperty.val`) or a task result: the type is always written there. */
export interface TypedValue {
  /** `xsd:string`, `VirtualMachinePowerState`, `ArrayOfVirtualDevice`, `TaskInfo`, `ManagedObjectReference`... */
  type: string;
  /** The inner XML (escaped text or child elements). */
  inner: string;
  /** For `ManagedObjectReference`: the referenced type. */
  refType?: string;
}

export function typed(name: string, value: TypedValue): string {
  const refAttr = value.refType ? ` type="${escapeXml(value.refType)}"` : '';
  return `<${name}${refAttr} xsi:type="${escapeXml(value.type)}">${value.inner}</${name}>`;
}

export function text(type: string, value: string | number | boolean): TypedValue {
  return { type, inner: escapeXml(String(value)) };
}

export function moValue(value: MoRef): TypedValue {
  return { type: 'ManagedObjectReference', refType: value.type, inner: escapeXml(value.value) };
}

/** `ArrayOfX` holding `<X …>` items. */
export function arrayOf(itemName: string, items: string[]): TypedValue {
  return { type: `ArrayOf${itemName}`, inner: items.join('') };
}

/** xsd:dateTime as vCenter writes it. */
export function dateTime(ms: number): string {
  return new Date(ms).toISOString();
}

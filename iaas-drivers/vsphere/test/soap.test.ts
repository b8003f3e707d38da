import { describe, expect, it } from 'vitest';
import { readSoapFault, readTaskFault } from '../src/errors.js';
import { bodyContent, data, envelope, moRef, xsdString } from '../src/soap.js';
import { XmlSyntaxError, child, childText, children, parseXml, xsiType } from '../src/xml.js';

describe('the SOAP envelope builder and XML reader', () => {
  it('writes a vim25 call with _this first, arguments in order, xsi:types and escaped text, and reads it back', () => {
    const text = envelope('ReconfigVM_Task', moRef('VirtualMachine', 'vm-42'), {
      spec: data('VirtualMachineConfigSpec', {
        annotation: 'a <b> & "c" \'d\'',
        numCPUs: 2,
        extraConfig: [data('OptionValue', { key: 'guestinfo.userdata', value: xsdString('eyJ9') })],
        memoryMB: undefined,
      }),
    });
    const call = bodyContent(text)!;
    expect(call.name).toBe('ReconfigVM_Task');
    expect(call.children.map((c) => c.name)).toEqual(['_this', 'spec']);
    expect(child(call, '_this')).toMatchObject({ attrs: { type: 'VirtualMachine' }, text: 'vm-42' });
    const spec = child(call, 'spec')!;
    expect(xsiType(spec)).toBe('VirtualMachineConfigSpec');
    expect(spec.children.map((c) => c.name)).toEqual(['annotation', 'numCPUs', 'extraConfig']);
    expect(childText(spec, 'annotation')).toBe('a <b> & "c" \'d\'');
    const value = child(child(spec, 'extraConfig'), 'value')!;
    expect(xsiType(value)).toBe('string');
    expect(value.text).toBe('eyJ9');
  });

  it('reads what vCenter writes: declarations, comments, CDATA, character references, self-closing elements', () => {
    const root = parseXml(
      '<?xml version="1.0" encoding="UTF-8"?>\n<!-- vpxd --><a xmlns:xsi="x"><b xsi:type="xsd:int">4&#50;</b><c/><d><![CDATA[<raw> & ]]>&#x41;&amp;</d></a>',
    );
    expect(childText(root, 'b')).toBe('42');
    expect(child(root, 'c')).toMatchObject({ name: 'c', children: [], text: '' });
    expect(childText(root, 'd')).toBe('<raw> & A&');
    expect(children(root, 'b')).toHaveLength(1);
  });

  it('refuses document types (no entity expansion) and mismatched tags', () => {
    expect(() => parseXml('<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>')).toThrow(XmlSyntaxError);
    expect(() => parseXml('<a><b></a>')).toThrow(XmlSyntaxError);
    expect(() => parseXml('<a></a><b></b>')).toThrow(XmlSyntaxError);
    expect(bodyContent('<HTML><BODY>503 Service Unavailable</BODY></HTML>')).toBeUndefined();
  });

  it("reads a SOAP fault's type from its detail and a task's LocalizedMethodFault", () => {
    const fault = bodyContent(
      `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>The object &apos;vim.VirtualMachine:vm-7&apos; has already been deleted or has not been completely created</faultstring><detail><ManagedObjectNotFoundFault xmlns="urn:vim25" xsi:type="ManagedObjectNotFound"><obj type="VirtualMachine">vm-7</obj></ManagedObjectNotFoundFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
    )!;
    expect(readSoapFault(fault, 'Destroy_Task', 500)).toEqual({
      method: 'Destroy_Task',
      source: 'soap',
      status: 500,
      faultType: 'ManagedObjectNotFound',
      message: "The object 'vim.VirtualMachine:vm-7' has already been deleted or has not been completely created",
      object: { type: 'VirtualMachine', value: 'vm-7' },
    });
    // Without xsi:type, the element name says it.
    const untyped = parseXml('<Fault><faultstring>no</faultstring><detail><InvalidLoginFault/></detail></Fault>');
    expect(readSoapFault(untyped, 'Login', 500).faultType).toBe('InvalidLogin');
    const task = parseXml(
      '<error xmlns:xsi="x"><fault xsi:type="InsufficientMemoryResourcesFault"><unreserved>0</unreserved></fault><localizedMessage>The available Memory resources in the parent resource pool are insufficient for the operation.</localizedMessage></error>',
    );
    expect(readTaskFault(task, 'CloneVM_Task')).toMatchObject({
      source: 'task',
      faultType: 'InsufficientMemoryResourcesFault',
      message: expect.stringContaining('parent resource pool'),
    });
  });
});

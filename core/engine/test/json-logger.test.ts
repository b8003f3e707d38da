import { describe, expect, it } from 'vitest';
import { JsonLogger } from '../src/json-logger.js';

describe('JSON logs', () => {
  it('writes one JSON object a line with the ids of its children, and redacts secrets by path', () => {
    const lines: string[] = [];
    const root = JsonLogger.create((l) => lines.push(l), 'info');
    const task = root.child({ task: 42, cluster: 'prod' });
    task.debug('not written below the level');
    task.info('step started', { step: 'masters', instance: 'master/0', request_id: 'req-1' });
    task.warn('login', {
      password: 'hunter2-hunter2',
      token: 'tok-secret',
      headers: { authorization: 'Bearer abc.def', accept: 'json' },
      credential: { private_key: '-----BEGIN PRIVATE KEY-----', name: '/c/ca' },
    });
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]);
    expect(first).toMatchObject({
      level: 'info',
      message: 'step started',
      task: 42,
      cluster: 'prod',
      step: 'masters',
      instance: 'master/0',
      request_id: 'req-1',
    });
    expect(Date.parse(first.at)).not.toBeNaN();
    const second = JSON.parse(lines[1]);
    expect(second).toMatchObject({
      level: 'warn',
      task: 42,
      password: '[redacted]',
      token: '[redacted]',
      headers: { authorization: '[redacted]', accept: 'json' },
      credential: { private_key: '[redacted]', name: '/c/ca' },
    });
    for (const secret of ['hunter2', 'tok-secret', 'abc.def', 'BEGIN PRIVATE'])
      expect(lines.join('\n')).not.toContain(secret);
  });
});

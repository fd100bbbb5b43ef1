import { describe, expect, it } from 'vitest';
import { redactDeep, redactSecrets } from './redact.ts';

describe('redactSecrets', () => {
  it.each([
    ['mysql://user@db.example:3306/friends?password=hunter2', 'mysql://user@db.example:3306/friends?password=***'],
    ['mysql://user:hunter2@127.0.0.1/db', 'mysql://user:***@127.0.0.1/db'],
    ['postgres://u:p%40ss@host/db?sslmode=require&pwd=hunter2', 'postgres://u:***@host/db?sslmode=require&pwd=***'],
    ['https://api.example/x?token=abc.def&page=2', 'https://api.example/x?token=***&page=2'],
    ['GET /q?access_token=abc&Password=x', 'GET /q?access_token=***&Password=***'],
    ['escaped https://h/x?a=1&amp;password=hunter2 in HTML', 'escaped https://h/x?a=1&amp;password=*** in HTML'],
    ['connect ECONNREFUSED (mysql://a:b@h/d?api_key=k)', 'connect ECONNREFUSED (mysql://a:***@h/d?api_key=***'],
  ])('%s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
    expect(redactSecrets(input)).not.toMatch(/hunter2/);
  });

  it('leaves text without credentials alone', () => {
    const text = 'route: header (end-user canary-tester-*) http://127.0.0.1:8080/api/account?id=3&user=user-1';
    expect(redactSecrets(text)).toBe(text);
  });

  it('redacts every string of nested data, keys untouched', () => {
    const data = { a: ['x', { url: 'mysql://u@h/d?password=hunter2' }], n: 3, ok: true, none: null };
    expect(redactDeep(data)).toEqual({ a: ['x', { url: 'mysql://u@h/d?password=***' }], n: 3, ok: true, none: null });
  });
});

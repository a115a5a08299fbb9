import { describe, expect, it } from 'vitest';
import { redact } from '../../server/store/url.js';

describe('redact', () => {
  it('hides the password of a database URL and keeps the rest', () => {
    expect(redact('postgres://crumb:s3cr%40t@db.internal:5432/crumb?max=20')).toBe('postgres://crumb:***@db.internal:5432/crumb?max=20');
    expect(redact('POSTGRESQL://u:p@h/d')).toBe('POSTGRESQL://u:***@h/d');
  });

  it('leaves URLs without a password and SQLite paths as they are', () => {
    expect(redact('postgres://crumb@127.0.0.1/test')).toBe('postgres://crumb@127.0.0.1/test');
    expect(redact('data/crumb.db')).toBe('data/crumb.db');
  });
});

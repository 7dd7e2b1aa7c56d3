import { describe, expect, it } from 'vitest';
import { DESKTOP_CSP, cspWeaknesses, parseCsp, withDesktopCsp } from '../../../electron/shell/csp.ts';
import { CONSOLE_CSP } from '../../../electron/hub/http/security.ts';

describe('content security policy', () => {
  it('is strict: self-only scripts and connections, no eval, no plugins, no framing, no base tag', () => {
    expect(cspWeaknesses(DESKTOP_CSP)).toEqual([]);
    const d = parseCsp(DESKTOP_CSP);
    expect(d.get('script-src')).toEqual(["'self'"]);
    expect(d.get('connect-src')).toEqual(["'self'"]);
    expect(d.get('frame-src')).toEqual(["'none'"]);
  });

  it('flags weak policies', () => {
    expect(cspWeaknesses("default-src *; script-src 'self' 'unsafe-eval'")).toEqual(
      expect.arrayContaining(["script-src allows 'unsafe-eval'", "default-src is not 'self'", "object-src is not 'none'"]),
    );
    expect(cspWeaknesses("default-src 'self'; script-src 'self' 'unsafe-inline'; connect-src *; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")).toEqual(
      expect.arrayContaining(["script-src allows 'unsafe-inline'", 'connect-src allows *']),
    );
  });

  it('the hub console CSP is strict too, and the desktop one is at least as strict for every directive the hub sets', () => {
    expect(cspWeaknesses(CONSOLE_CSP)).toEqual([]);
    const hub = parseCsp(CONSOLE_CSP);
    const desk = parseCsp(DESKTOP_CSP);
    for (const [name, values] of hub) {
      const ours = desk.get(name);
      expect(ours, name).toBeDefined();
      for (const v of ours!) expect(values, `${name} ${v}`).toContain(v);
    }
  });

  it('is added to responses from the hub origin only, alongside any policy the hub sent', () => {
    const hub = 'http://127.0.0.1:7700';
    const h = withDesktopCsp(`${hub}/index.html`, hub, { 'Content-Security-Policy': ["default-src 'self'"], 'Content-Type': ['text/html'] });
    expect(h['Content-Security-Policy']).toEqual(["default-src 'self'", DESKTOP_CSP]);
    expect(withDesktopCsp(`${hub}/`, hub, undefined)).toEqual({ 'Content-Security-Policy': [DESKTOP_CSP] });
    const lower = withDesktopCsp(`${hub}/`, hub, { 'content-security-policy': 'x' });
    expect(lower['content-security-policy']).toEqual(['x', DESKTOP_CSP]);
    expect(withDesktopCsp('https://example.com/', hub, { a: ['b'] })).toEqual({ a: ['b'] });
    expect(withDesktopCsp('http://127.0.0.1:7701/', hub, {})).toEqual({});
  });
});

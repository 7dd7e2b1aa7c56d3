import { describe, expect, it } from 'vitest';
import { decideNavigation, decideWindowOpen, externalPolicyFromEnv, isAllowedExternal, sameOrigin } from '../../../electron/shell/navigation.ts';

const APP = 'http://127.0.0.1:7700';

describe('navigation rules', () => {
  it('allows navigation within the hub origin only', () => {
    expect(decideNavigation(`${APP}/`, APP)).toEqual({ action: 'allow' });
    expect(decideNavigation(`${APP}/#/alerts`, APP)).toEqual({ action: 'allow' });
    expect(decideNavigation('http://127.0.0.1:7701/', APP)).toEqual({ action: 'open-external', url: 'http://127.0.0.1:7701/' });
    expect(decideNavigation('http://localhost:7700/', APP).action).not.toBe('allow');
  });

  it('sends allow-listed links to the system browser and drops the rest', () => {
    expect(decideNavigation('https://docs.example.com/x', APP)).toEqual({ action: 'open-external', url: 'https://docs.example.com/x' });
    for (const bad of ['file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,<script>1</script>', 'ftp://x.org/', 'smb://host/share', 'relaydesk://x', 'not a url', 'https://user:pw@evil.example/'])
      expect(decideNavigation(bad, APP), bad).toEqual({ action: 'deny' });
  });

  it('never opens a new Electron window', () => {
    expect(decideWindowOpen('https://example.com/')).toEqual({ action: 'deny', openExternal: 'https://example.com/' });
    expect(decideWindowOpen(`${APP}/`)).toEqual({ action: 'deny', openExternal: `${APP}/` });
    expect(decideWindowOpen('file:///tmp/x')).toEqual({ action: 'deny' });
    expect(decideWindowOpen('about:blank')).toEqual({ action: 'deny' });
  });

  it('narrows external links to RELAYDESK_EXTERNAL_HOSTS on a dot boundary', () => {
    const p = externalPolicyFromEnv({ RELAYDESK_EXTERNAL_HOSTS: 'example.com, status.io' });
    expect(p.hosts).toEqual(['example.com', 'status.io']);
    expect(isAllowedExternal('https://example.com/a', p)).toBe(true);
    expect(isAllowedExternal('https://shop.example.com/a', p)).toBe(true);
    expect(isAllowedExternal('https://badexample.com/a', p)).toBe(false);
    expect(isAllowedExternal('https://example.com.evil.net/', p)).toBe(false);
    expect(isAllowedExternal('https://status.io/', p)).toBe(true);
    expect(externalPolicyFromEnv({}).hosts).toEqual([]);
  });

  it('refuses absurdly long links and compares origins exactly', () => {
    expect(isAllowedExternal(`https://example.com/${'a'.repeat(3000)}`)).toBe(false);
    expect(sameOrigin(`${APP}/x`, APP)).toBe(true);
    expect(sameOrigin('http://127.0.0.1:7700.evil.com/', APP)).toBe(false);
    expect(sameOrigin('data:,x', 'null')).toBe(false);
  });
});

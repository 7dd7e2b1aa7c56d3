import { useState, type FormEvent } from 'react';
import { parseLoginLink } from '../../shared/login-link.ts';

/**
 * Paste a `relaydesk login-url` link to sign in. In a browser the page simply opens the link (the hub
 * answers with its session cookie); in the desktop window the main process moves the window to the
 * link's hub, after asking the user when that is another hub than the one shown.
 */
export function SignInForm() {
  const [link, setLink] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let url: string;
    try {
      url = parseLoginLink(link).url;
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      return;
    }
    setError(null);
    if (!window.relaydesk) {
      location.assign(url);
      return;
    }
    setBusy(true);
    try {
      await window.relaydesk.signIn(url);
    } catch (err) {
      // Electron wraps a main-process error as "Error invoking remote method '<channel>': Error: <reason>".
      setError((err instanceof Error ? err.message : String(err)).replace(/^Error invoking remote method '[^']+': (\w*Error: )?/, ''));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="sign-in" onSubmit={(e) => void submit(e)} data-testid="sign-in">
      <label htmlFor="login-link">Login link</label>
      <input
        id="login-link"
        type="url"
        autoComplete="off"
        spellCheck={false}
        placeholder="http://hub:7700/auth/exchange?code=…"
        value={link}
        onChange={(e) => setLink(e.target.value)}
        aria-invalid={error !== null}
        aria-describedby={error ? 'login-link-error' : undefined}
      />
      <button type="submit" disabled={busy || !link.trim()}>
        Sign in
      </button>
      {error && (
        <p id="login-link-error" className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

import type { FieldError } from '../../shared/events.ts';

/** An error with everything the HTTP layer needs to answer: status, a stable code, and the fields. */
export class HubError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, fields?: FieldError[]) => new HubError(400, 'invalid_request', message, fields);
export const forbidden = (message: string, fields?: FieldError[]) => new HubError(403, 'forbidden', message, fields);

/** SQLite errors that mean "the disk cannot take this right now", as opposed to a bug. */
const STORAGE_CODES = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|PROTOCOL|CORRUPT|NOTADB|PERM)/;

export function isStorageError(err: unknown): err is Error & { code: string } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && STORAGE_CODES.test((err as unknown as { code: string }).code);
}

export function storageUnavailable(err: Error & { code?: string }): HubError {
  return new HubError(
    503,
    'storage_unavailable',
    `the event log cannot be written (${err.code ?? 'error'}: ${err.message}); nothing from this request was stored, retry later`,
    undefined,
    { 'retry-after': '5' },
  );
}

/**
 * Money as people read it: the currency's own symbol, grouping and minor units (KRW and JPY have
 * none, so 54000 KRW is "₩54,000", not "54000.00 KRW"). Intl knows every ISO 4217 code; a code it
 * does not know is printed after the number rather than dropped, so nothing the publisher sent is lost.
 */
const formats = new Map<string, Intl.NumberFormat>();

function formatter(currency: string | null, locale: string | undefined): Intl.NumberFormat {
  const key = `${locale ?? ''}|${currency ?? ''}`;
  let f = formats.get(key);
  if (!f) {
    f = currency
      ? new Intl.NumberFormat(locale, { style: 'currency', currency })
      : new Intl.NumberFormat(locale, { minimumFractionDigits: 0, maximumFractionDigits: 2 });
    formats.set(key, f);
  }
  return f;
}

export function formatMoney(amount: unknown, currency?: unknown, locale?: string): string {
  if (amount === null || amount === undefined || amount === '') return '-';
  const n = typeof amount === 'number' ? amount : Number(amount);
  if (!Number.isFinite(n)) return '-';
  const code = typeof currency === 'string' && currency.trim() ? currency.trim().toUpperCase() : null;
  if (code) {
    try {
      return formatter(code, locale).format(n);
    } catch {
      // Not an ISO 4217 code Intl accepts (a points currency, a typo): keep the publisher's code.
      return `${formatter(null, locale).format(n)} ${String(currency)}`;
    }
  }
  return formatter(null, locale).format(n);
}

/** HTML-escapes text for element content and quoted attributes. */
export function escapeHtml(text: unknown): string {
  return String(text ?? '').replace(
    /[&<>"'`=/]/g,
    (c) =>
      ({
        '&': '&amp;',
        '<': '&lt;',
        '>': '&gt;',
        '"': '&quot;',
        "'": '&#39;',
        '`': '&#96;',
        '=': '&#61;',
        '/': '&#47;',
      })[c]!,
  );
}

export interface ConsentPage {
  ok: boolean;
  title: string;
  message: string;
  /** A short machine code shown in small print (`GT_OAUTH_…`). */
  code?: string;
}

/** Headers of every page the callback renders: no caching, no framing, no scripts, no referrer (the URL holds the code). */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

/** The small page shown after the provider sends the user back. Every value is escaped. */
export function renderConsentPage(page: ConsentPage): string {
  const color = page.ok ? '#17663a' : '#a61b1b';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(page.title)}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f6f7f9;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:2rem 2.5rem;max-width:32rem}
h1{font-size:1.3rem;color:${color};margin:0 0 .75rem}
p{line-height:1.5;color:#222}
small{color:#666}
</style>
</head>
<body>
<main>
<h1>${escapeHtml(page.title)}</h1>
<p>${escapeHtml(page.message)}</p>
${page.code ? `<p><small>${escapeHtml(page.code)}</small></p>` : ''}
</main>
</body>
</html>
`;
}

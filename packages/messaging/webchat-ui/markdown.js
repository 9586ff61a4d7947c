// A deliberately small Markdown subset for bot text and Adaptive Card TextBlocks, rendered as DOM nodes (never as
// HTML, so message text cannot inject markup): paragraphs, line breaks, `- ` and `1. ` lists, **bold**, *italic* or
// _italic_, `code`, and [links](https://…) (http, https and mailto only).

const INLINE = /(\*\*[^*]+\*\*|__[^_]+__|\*[^*\s][^*]*\*|_[^_\s][^_]*_|`[^`]+`|\[[^\]]+\]\([^)\s]+\))/g;

export function safeUrl(raw) {
  try {
    const url = new URL(raw, document.baseURI);
    return ['http:', 'https:', 'mailto:'].includes(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function inline(text, parent) {
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) parent.append(text.slice(last, m.index));
    const token = m[0];
    if (token.startsWith('**') || token.startsWith('__')) {
      const b = document.createElement('strong');
      inline(token.slice(2, -2), b);
      parent.append(b);
    } else if (token.startsWith('`')) {
      const c = document.createElement('code');
      c.textContent = token.slice(1, -1);
      parent.append(c);
    } else if (token.startsWith('[')) {
      const close = token.indexOf('](');
      const href = safeUrl(token.slice(close + 2, -1));
      const label = token.slice(1, close);
      if (href) {
        const a = document.createElement('a');
        a.href = href;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        a.textContent = label;
        parent.append(a);
      } else parent.append(label);
    } else {
      const i = document.createElement('em');
      inline(token.slice(1, -1), i);
      parent.append(i);
    }
    last = m.index + token.length;
  }
  if (last < text.length) parent.append(text.slice(last));
}

function lines(text, parent) {
  text.split('\n').forEach((line, i) => {
    if (i > 0) parent.append(document.createElement('br'));
    inline(line, parent);
  });
}

/** Renders `text` into a DocumentFragment of paragraphs and lists. */
export function renderMarkdown(text) {
  const frag = document.createDocumentFragment();
  const blocks = String(text ?? '')
    .replace(/\r\n?/g, '\n')
    .split(/\n{2,}/);
  for (const block of blocks) {
    const rows = block.split('\n');
    const bullet = rows.every((r) => /^\s*[-*]\s+/.test(r));
    const numbered = rows.every((r) => /^\s*\d+[.)]\s+/.test(r));
    if (block.trim() !== '' && (bullet || numbered)) {
      const list = document.createElement(bullet ? 'ul' : 'ol');
      for (const r of rows) {
        const li = document.createElement('li');
        inline(r.replace(/^\s*(?:[-*]|\d+[.)])\s+/, ''), li);
        list.append(li);
      }
      frag.append(list);
    } else {
      const p = document.createElement('p');
      lines(block, p);
      frag.append(p);
    }
  }
  return frag;
}

import type { ReplyButton } from '../types.js';
import type { RenderModel } from './model.js';

/**
 * Escapes text for Telegram `parse_mode: MarkdownV2`. The Bot API requires `_ * [ ] ( ) ~ \` > # + - = | { } . !`
 * and the backslash itself to be escaped with a preceding backslash outside entities.
 */
export function escapeMarkdownV2(text: string): string {
  return text.replace(/[_*[\]()~`>#+\-=|{}.!\\]/g, '\\$&');
}

/** Escapes text for Slack `mrkdwn`/`plain_text`: `&`, `<` and `>` become entities (Slack's documented rule). */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A button as a numbered option line: `1. Beach` or `2. Docs: https://…`. */
export function optionLine(b: ReplyButton, i: number): string {
  return b.url !== undefined ? `${i + 1}. ${b.title}: ${b.url}` : `${i + 1}. ${b.title}`;
}

/**
 * The text downgrade of a card, for channels (or sizes) where it cannot be shown natively: the title, the
 * text, the image URL, and the buttons as numbered options. A user answers with the number or the label.
 */
export function downgradeToText(m: RenderModel, opts: { withImage?: boolean } = {}): string {
  const parts: string[] = [];
  if (m.title !== undefined) parts.push(m.title);
  if (m.text !== undefined) parts.push(m.text);
  if (opts.withImage !== false && m.image !== undefined) parts.push(m.image);
  if (m.buttons.length > 0) parts.push(m.buttons.map(optionLine).join('\n'));
  return parts.join('\n\n');
}

/**
 * Splits `text` into pieces of at most `max` UTF-16 units, preferring paragraph, line and word boundaries and
 * never splitting a surrogate pair.
 */
export function splitText(text: string, max: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = -1;
    for (const sep of ['\n\n', '\n', ' ']) {
      const at = rest.lastIndexOf(sep, max);
      if (at > max / 2) {
        cut = at;
        break;
      }
    }
    if (cut <= 0) {
      cut = max;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    }
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^[\n ]+/, '');
  }
  if (rest.length > 0 || out.length === 0) out.push(rest);
  return out;
}

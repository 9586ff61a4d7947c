import type { Attachment } from '@greentic/types';
import { isRecord } from '../http.js';
import type { OutboundReply, ReplyButton } from '../types.js';

/** A reply reduced to what every channel can show: title, text, buttons, image, attachments (+ the native card). */
export interface RenderModel {
  title?: string;
  text?: string;
  buttons: ReplyButton[];
  image?: string;
  attachments: Attachment[];
  /** The Adaptive Card of the reply, when it has one (sent natively to Teams). */
  adaptiveCard?: Record<string, unknown>;
  /** `payload.channel_data`: merged into the Teams activity's `channelData`. */
  channelData?: Record<string, unknown>;
}

export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

export function isAdaptiveCard(card: unknown): card is Record<string, unknown> {
  return isRecord(card) && card.type === 'AdaptiveCard';
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** Reads a button given as a string or as `{title|label|text, value|data|id, url}`. */
export function toButton(b: unknown): ReplyButton | undefined {
  if (typeof b === 'string') return b.length > 0 ? { title: b, value: b } : undefined;
  if (!isRecord(b)) return undefined;
  const title = str(b.title) ?? str(b.label) ?? str(b.text);
  const url = str(b.url);
  const raw = b.value ?? b.data ?? b.id;
  const value = typeof raw === 'string' ? raw : raw === undefined ? undefined : JSON.stringify(raw);
  if (title === undefined) return value !== undefined ? { title: value, value } : undefined;
  if (url !== undefined) return { title, url };
  return { title, value: value ?? title };
}

function toButtons(v: unknown): ReplyButton[] {
  return Array.isArray(v) ? v.map(toButton).filter((b): b is ReplyButton => b !== undefined) : [];
}

function toAttachments(v: unknown): Attachment[] {
  if (!Array.isArray(v)) return [];
  return v.filter(
    (a): a is Attachment => isRecord(a) && typeof a.mime_type === 'string' && typeof a.url === 'string',
  );
}

/** What a card's body says, in reading order: the title (first heading), text lines, buttons, first image. */
export function summarizeAdaptiveCard(card: Record<string, unknown>): {
  title?: string;
  lines: string[];
  buttons: ReplyButton[];
  image?: string;
} {
  let title: string | undefined;
  let image: string | undefined;
  const lines: string[] = [];
  const buttons: ReplyButton[] = [];
  const action = (a: unknown) => {
    if (!isRecord(a)) return;
    const t = str(a.title) ?? '';
    if (a.type === 'Action.OpenUrl' && str(a.url))
      buttons.push({ title: t || String(a.url), url: String(a.url) });
    else if (a.type === 'Action.Submit' || a.type === 'Action.Execute') {
      const data = a.data;
      const value = isRecord(data)
        ? (str(data.action) ?? str(data.value) ?? str(a.verb) ?? (t || JSON.stringify(data)))
        : (str(data) ?? str(a.verb) ?? t);
      if (value) buttons.push({ title: t || value, value });
    } else if (a.type === 'Action.ShowCard' && isRecord(a.card)) {
      walk(a.card.body);
      actions(a.card.actions);
    }
  };
  const actions = (list: unknown) => Array.isArray(list) && list.forEach(action);
  const walk = (items: unknown): void => {
    if (!Array.isArray(items)) return;
    for (const el of items) {
      if (!isRecord(el)) continue;
      switch (el.type) {
        case 'TextBlock': {
          const t = str(el.text);
          if (!t) break;
          const lc = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : '');
          const heading =
            lc(el.style) === 'heading' ||
            lc(el.weight) === 'bolder' ||
            lc(el.size) === 'large' ||
            lc(el.size) === 'extralarge';
          if (title === undefined && heading && lines.length === 0) title = t;
          else lines.push(t);
          break;
        }
        case 'RichTextBlock': {
          const t = Array.isArray(el.inlines)
            ? el.inlines
                .map((i) => (typeof i === 'string' ? i : isRecord(i) ? (str(i.text) ?? '') : ''))
                .join('')
            : '';
          if (t) lines.push(t);
          break;
        }
        case 'FactSet':
          if (Array.isArray(el.facts))
            for (const f of el.facts)
              if (isRecord(f)) lines.push(`${str(f.title) ?? ''}: ${str(f.value) ?? ''}`);
          break;
        case 'Image':
          image ??= str(el.url);
          break;
        case 'Input.ChoiceSet':
          if (Array.isArray(el.choices))
            for (const c of el.choices)
              if (isRecord(c) && str(c.title))
                buttons.push({ title: String(c.title), value: str(c.value) ?? String(c.title) });
          break;
        case 'ActionSet':
          actions(el.actions);
          break;
        case 'Container':
          walk(el.items);
          break;
        case 'ColumnSet':
          if (Array.isArray(el.columns)) for (const c of el.columns) if (isRecord(c)) walk(c.items);
          break;
        default:
          if (Array.isArray(el.items)) walk(el.items);
      }
    }
  };
  walk(card.body);
  actions(card.actions);
  return {
    ...(title !== undefined ? { title } : {}),
    lines,
    buttons,
    ...(image !== undefined ? { image } : {}),
  };
}

/** Reduces a reply to its {@link RenderModel}: reply text, then the card's title/text/buttons, then `payload` extras. */
export function renderModel(reply: OutboundReply): RenderModel {
  const payload = isRecord(reply.payload) ? reply.payload : {};
  const model: RenderModel = { buttons: [], attachments: toAttachments(payload.attachments) };
  const texts: string[] = [];
  if (str(reply.text)) texts.push(reply.text as string);
  const card = reply.card;
  if (isAdaptiveCard(card)) {
    model.adaptiveCard = card;
    const s = summarizeAdaptiveCard(card);
    if (s.title !== undefined) model.title = s.title;
    texts.push(...s.lines);
    model.buttons = s.buttons;
    if (s.image !== undefined) model.image = s.image;
  } else if (isRecord(card)) {
    if (str(card.title)) model.title = card.title as string;
    if (str(card.text)) texts.push(card.text as string);
    model.buttons = toButtons(card.buttons ?? card.actions);
    if (str(card.image)) model.image = card.image as string;
  } else if (typeof card === 'string' && card.length > 0) texts.push(card);
  if (model.title === undefined && str(payload.title)) model.title = payload.title as string;
  if (model.buttons.length === 0) model.buttons = toButtons(payload.buttons);
  if (texts.length > 0) model.text = texts.join('\n\n');
  if (isRecord(payload.channel_data)) model.channelData = payload.channel_data;
  return model;
}

/** True when the model has nothing to send. */
export function isEmptyModel(m: RenderModel): boolean {
  return (
    m.title === undefined &&
    m.text === undefined &&
    m.buttons.length === 0 &&
    m.image === undefined &&
    m.attachments.length === 0 &&
    m.adaptiveCard === undefined
  );
}

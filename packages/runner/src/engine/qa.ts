import type { SlotDefinition } from '@greentic/flow';

/**
 * The question/answer logic behind `questions` and `qa.process` nodes: reading the node's payload into a list of
 * questions, and validating one typed answer against a question's `answer_type` (and the flow's slot schema).
 */

export interface Question {
  id: string;
  prompt: string;
  answerType: string;
  optional: boolean;
  maxWords?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: RegExp;
  min?: number;
  max?: number;
  options?: { value: string; label: string }[];
  default?: unknown;
  invalidMessage?: string;
  showIf?: string;
}

export interface QaSpec {
  welcome?: string;
  questions: Question[];
}

export type AnswerCheck = { ok: true; value: unknown } | { ok: false; reason: string };

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function readOptions(raw: unknown): { value: string; label: string }[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  return raw.map((o) => {
    if (typeof o === 'string' || typeof o === 'number' || typeof o === 'boolean') {
      return { value: String(o), label: String(o) };
    }
    const obj = (o ?? {}) as Record<string, unknown>;
    const value = String(obj.value ?? obj.id ?? obj.label ?? '');
    return { value, label: String(obj.label ?? obj.title ?? value) };
  });
}

/** Reads both upstream shapes: `{welcome, questions:[{id, prompt, answer_type, …}]}` and `{fields:[{id, prompt, type, …}]}`. */
export function readQaSpec(payload: unknown, nodeId: string): QaSpec {
  const p = (payload ?? {}) as Record<string, unknown>;
  const list = Array.isArray(p.questions) ? p.questions : Array.isArray(p.fields) ? p.fields : undefined;
  if (!list || list.length === 0) {
    throw new Error(`node "${nodeId}": a questions node needs a non-empty "questions" (or "fields") list`);
  }
  const questions = list.map((raw, i): Question => {
    const q = (raw ?? {}) as Record<string, unknown>;
    const id = str(q.id);
    if (!id) throw new Error(`node "${nodeId}": question #${i + 1} has no "id"`);
    const pattern = str(q.pattern);
    let re: RegExp | undefined;
    if (pattern !== undefined) {
      try {
        re = new RegExp(pattern);
      } catch (e) {
        throw new Error(
          `node "${nodeId}": question "${id}" has an invalid pattern /${pattern}/: ${(e as Error).message}`,
        );
      }
    }
    const required = q.required === undefined ? undefined : q.required === true;
    return {
      id,
      prompt: str(q.prompt) ?? str(q.label) ?? str(q.title) ?? id,
      answerType: (str(q.answer_type) ?? str(q.type) ?? 'text').toLowerCase(),
      optional: q.optional === true || required === false,
      maxWords: num(q.max_words),
      minLength: num(q.min_length),
      maxLength: num(q.max_length),
      pattern: re,
      min: num(q.min),
      max: num(q.max),
      options: readOptions(q.options ?? q.choices ?? q.enum),
      default: q.default,
      invalidMessage: str(q.invalid_message) ?? str(q.error),
      showIf: str(q.show_if),
    };
  });
  return { welcome: str(p.welcome), questions };
}

const YES = new Set(['yes', 'y', 'true', 'oui', 'si', 'ja', '1', 'ok', 'sure', 'yep']);
const NO = new Set(['no', 'n', 'false', 'non', 'nein', '0', 'nope']);
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const SKIP = new Set(['', 'skip', '-']);

/** The prompt as the user sees it, with the choices listed for a choice question. */
export function promptText(q: Question): string {
  if (q.options && q.options.length > 0) {
    const list = q.options.map((o, i) => `${i + 1}. ${o.label}`).join('\n');
    return `${q.prompt}\n${list}`;
  }
  return q.prompt;
}

export function checkAnswer(q: Question, rawText: string, slots?: SlotDefinition[]): AnswerCheck {
  const text = rawText.trim();
  if (SKIP.has(text.toLowerCase())) {
    if (q.optional) return { ok: true, value: q.default ?? null };
    if (text === '' && q.default !== undefined) return { ok: true, value: q.default };
    return { ok: false, reason: 'An answer is required.' };
  }
  const typed = checkType(q, text);
  if (!typed.ok) return typed;
  if (typeof typed.value === 'string') {
    if (q.maxWords !== undefined && text.split(/\s+/).length > q.maxWords) {
      return {
        ok: false,
        reason: `Please answer in at most ${q.maxWords} word${q.maxWords === 1 ? '' : 's'}.`,
      };
    }
    if (q.minLength !== undefined && text.length < q.minLength) {
      return { ok: false, reason: `Please answer with at least ${q.minLength} characters.` };
    }
    if (q.maxLength !== undefined && text.length > q.maxLength) {
      return { ok: false, reason: `Please answer with at most ${q.maxLength} characters.` };
    }
    if (q.pattern && !q.pattern.test(text))
      return { ok: false, reason: 'That answer is not in the expected format.' };
  }
  const slot = slots?.find((s) => s.name === q.id);
  if (slot) {
    const s = checkSlot(slot, typed.value);
    if (!s.ok) return s;
  }
  return typed;
}

function checkType(q: Question, text: string): AnswerCheck {
  switch (q.answerType) {
    case 'number':
    case 'float':
    case 'integer':
    case 'int': {
      const n = Number(text.replace(/,/g, '.'));
      if (!Number.isFinite(n)) return { ok: false, reason: 'Please answer with a number.' };
      if ((q.answerType === 'integer' || q.answerType === 'int') && !Number.isInteger(n)) {
        return { ok: false, reason: 'Please answer with a whole number.' };
      }
      if (q.min !== undefined && n < q.min)
        return { ok: false, reason: `Please answer with a number of at least ${q.min}.` };
      if (q.max !== undefined && n > q.max)
        return { ok: false, reason: `Please answer with a number of at most ${q.max}.` };
      return { ok: true, value: n };
    }
    case 'boolean':
    case 'bool':
    case 'yes_no':
    case 'yesno':
    case 'confirm': {
      const t = text.toLowerCase();
      if (YES.has(t)) return { ok: true, value: true };
      if (NO.has(t)) return { ok: true, value: false };
      return { ok: false, reason: 'Please answer yes or no.' };
    }
    case 'email':
      return EMAIL.test(text)
        ? { ok: true, value: text }
        : { ok: false, reason: 'Please enter a valid email address.' };
    case 'date': {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(`${text}T00:00:00Z`))) {
        return { ok: false, reason: 'Please enter a date as YYYY-MM-DD.' };
      }
      return { ok: true, value: text };
    }
    case 'choice':
    case 'enum':
    case 'select':
    case 'single_select':
    case 'options': {
      const opts = q.options ?? [];
      const t = text.toLowerCase();
      const byIndex = /^\d+$/.test(t) ? opts[Number(t) - 1] : undefined;
      const hit = byIndex ?? opts.find((o) => o.value.toLowerCase() === t || o.label.toLowerCase() === t);
      if (!hit) return { ok: false, reason: `Please choose one of: ${opts.map((o) => o.label).join(', ')}.` };
      return { ok: true, value: hit.value };
    }
    default:
      if (q.options && q.options.length > 0) return checkType({ ...q, answerType: 'choice' }, text);
      return { ok: true, value: text };
  }
}

function checkSlot(slot: SlotDefinition, value: unknown): AnswerCheck {
  const text = String(value);
  if (slot.pattern !== undefined && !new RegExp(slot.pattern).test(text)) {
    return { ok: false, reason: 'That answer is not in the expected format.' };
  }
  if (
    slot.slot_type === 'enum' &&
    slot.enum_values &&
    !slot.enum_values.some((v) => v.toLowerCase() === text.toLowerCase())
  ) {
    return { ok: false, reason: `Please choose one of: ${slot.enum_values.join(', ')}.` };
  }
  if (slot.slot_type === 'number' && !Number.isFinite(Number(text)))
    return { ok: false, reason: 'Please answer with a number.' };
  return { ok: true, value };
}

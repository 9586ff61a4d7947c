// A small Adaptive Card renderer (DOM, no HTML strings): TextBlock, RichTextBlock, Image, ImageSet, FactSet,
// Container, ColumnSet/Column, ActionSet, Input.Text/Number/Date/Time/Toggle/ChoiceSet, and the actions
// Action.Submit, Action.Execute, Action.OpenUrl and Action.ShowCard. Unknown elements use their `fallback`
// (an element, or "drop"); a card it cannot render shows its `fallbackText`.
import { renderMarkdown, safeUrl } from './markdown.js';

let uid = 0;
const nextId = (what) => `ac-${what}-${++uid}`;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function safeImage(raw) {
  if (typeof raw !== 'string') return undefined;
  if (/^data:image\/(png|jpe?g|gif|webp|svg\+xml);/i.test(raw)) return raw;
  const url = safeUrl(raw);
  return url && /^https?:/.test(url) ? url : undefined;
}

function common(node, e) {
  if (e.isVisible === false) node.hidden = true;
  if (e.separator) node.classList.add('ac-separator');
  if (typeof e.spacing === 'string') node.classList.add(`ac-spacing-${e.spacing.toLowerCase()}`);
  if (typeof e.horizontalAlignment === 'string')
    node.classList.add(`ac-align-${e.horizontalAlignment.toLowerCase()}`);
  return node;
}

function renderTextBlock(e) {
  const node = el('div', 'ac-textblock');
  if (e.style === 'heading') {
    node.setAttribute('role', 'heading');
    node.setAttribute('aria-level', '3');
  }
  for (const [prop, prefix] of [
    ['size', 'ac-size-'],
    ['weight', 'ac-weight-'],
    ['color', 'ac-color-'],
  ]) {
    if (typeof e[prop] === 'string') node.classList.add(prefix + e[prop].toLowerCase());
  }
  if (e.isSubtle) node.classList.add('ac-subtle');
  if (e.wrap === false) node.classList.add('ac-nowrap');
  node.append(renderMarkdown(String(e.text ?? '')));
  return node;
}

function renderRichText(e) {
  const node = el('p', 'ac-richtext');
  for (const inline of Array.isArray(e.inlines) ? e.inlines : []) {
    const run = typeof inline === 'string' ? { text: inline } : inline;
    const span = el(
      run.weight === 'bolder' ? 'strong' : run.italic ? 'em' : 'span',
      '',
      String(run.text ?? ''),
    );
    if (run.isSubtle) span.classList.add('ac-subtle');
    node.append(span);
  }
  return node;
}

function renderImage(e) {
  const src = safeImage(e.url);
  if (!src) return undefined;
  const img = el('img', 'ac-image');
  img.src = src;
  img.alt = typeof e.altText === 'string' ? e.altText : '';
  img.loading = 'lazy';
  img.referrerPolicy = 'no-referrer';
  if (typeof e.size === 'string') img.classList.add(`ac-image-${e.size.toLowerCase()}`);
  if (e.style === 'person') img.classList.add('ac-image-person');
  return img;
}

function renderFactSet(e) {
  const dl = el('dl', 'ac-factset');
  for (const f of Array.isArray(e.facts) ? e.facts : []) {
    const dt = el('dt');
    dt.append(renderMarkdown(String(f.title ?? '')));
    const dd = el('dd');
    dd.append(renderMarkdown(String(f.value ?? '')));
    dl.append(dt, dd);
  }
  return dl;
}

function renderColumnSet(e, ctx) {
  const row = el('div', 'ac-columnset');
  for (const c of Array.isArray(e.columns) ? e.columns : []) {
    const col = common(el('div', 'ac-column'), c);
    const w = c.width;
    if (w === 'auto') col.style.flex = '0 0 auto';
    else if (typeof w === 'number' || /^\d+$/.test(String(w ?? ''))) col.style.flex = `${Number(w)} 1 0`;
    else if (typeof w === 'string' && /^\d+px$/.test(w)) col.style.flex = `0 0 ${w}`;
    renderItems(c.items, col, ctx);
    row.append(col);
  }
  return row;
}

function field(e, control) {
  const wrap = el('div', 'ac-input');
  const label = el('label', 'ac-label', String(e.label ?? e.placeholder ?? e.id ?? ''));
  if (e.isRequired) {
    label.append(el('span', 'ac-required', ' *'));
    control.required = true;
    control.setAttribute('aria-required', 'true');
  }
  label.htmlFor = control.id;
  const error = el('div', 'ac-error');
  error.id = `${control.id}-error`;
  error.hidden = true;
  control.setAttribute('aria-describedby', error.id);
  wrap.append(label, control, error);
  const input = {
    id: e.id,
    required: !!e.isRequired,
    focus: () => control.focus(),
    value: () => control.value,
    showError(show) {
      error.hidden = !show;
      error.textContent = show ? String(e.errorMessage ?? 'This field is required.') : '';
      control.setAttribute('aria-invalid', show ? 'true' : 'false');
    },
  };
  return { wrap, input };
}

function renderTextInput(e, ctx) {
  const multi = e.isMultiline === true;
  const control = el(multi ? 'textarea' : 'input', 'ac-control');
  control.id = nextId('input');
  if (!multi) {
    const style = String(e.style ?? '').toLowerCase();
    control.type =
      e.type === 'Input.Number'
        ? 'number'
        : e.type === 'Input.Date'
          ? 'date'
          : e.type === 'Input.Time'
            ? 'time'
            : ['email', 'tel', 'url'].includes(style)
              ? style
              : 'text';
  }
  if (e.placeholder) control.placeholder = String(e.placeholder);
  if (e.value !== undefined) control.value = String(e.value);
  if (e.maxLength) control.maxLength = Number(e.maxLength);
  if (e.min !== undefined) control.min = String(e.min);
  if (e.max !== undefined) control.max = String(e.max);
  control.name = String(e.id ?? '');
  const { wrap, input } = field(e, control);
  if (e.type !== 'Input.Text' || !multi) {
    // Enter in a card's single-line input submits the card's first submit action, like a form.
    control.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && ctx.defaultSubmit) {
        ev.preventDefault();
        ctx.defaultSubmit();
      }
    });
  }
  if (e.id) ctx.inputs.push(input);
  return wrap;
}

function renderToggle(e, ctx) {
  const wrap = el('div', 'ac-input ac-toggle');
  const box = el('input');
  box.type = 'checkbox';
  box.id = nextId('toggle');
  const on = String(e.valueOn ?? 'true');
  const off = String(e.valueOff ?? 'false');
  box.checked = String(e.value ?? off) === on;
  const label = el('label', 'ac-label', String(e.title ?? e.label ?? e.id ?? ''));
  label.htmlFor = box.id;
  wrap.append(box, label);
  if (e.id) {
    ctx.inputs.push({
      id: e.id,
      required: false,
      focus: () => box.focus(),
      value: () => (box.checked ? on : off),
      showError() {},
    });
  }
  return wrap;
}

function renderChoiceSet(e, ctx) {
  const choices = Array.isArray(e.choices) ? e.choices : [];
  const initial = new Set(
    String(e.value ?? '')
      .split(',')
      .filter(Boolean),
  );
  if (e.isMultiSelect || e.style === 'expanded') {
    const fieldset = el('fieldset', 'ac-input ac-choices');
    const legend = el('legend', 'ac-label', String(e.label ?? e.placeholder ?? e.id ?? ''));
    if (e.isRequired) legend.append(el('span', 'ac-required', ' *'));
    fieldset.append(legend);
    const group = nextId('choice');
    const boxes = choices.map((c) => {
      const row = el('div', 'ac-choice');
      const box = el('input');
      box.type = e.isMultiSelect ? 'checkbox' : 'radio';
      box.name = group;
      box.id = nextId('option');
      box.value = String(c.value ?? '');
      box.checked = initial.has(box.value);
      const label = el('label', '', String(c.title ?? c.value ?? ''));
      label.htmlFor = box.id;
      row.append(box, label);
      fieldset.append(row);
      return box;
    });
    const error = el('div', 'ac-error');
    error.hidden = true;
    fieldset.append(error);
    if (e.id) {
      ctx.inputs.push({
        id: e.id,
        required: !!e.isRequired,
        focus: () => boxes[0]?.focus(),
        value: () =>
          boxes
            .filter((b) => b.checked)
            .map((b) => b.value)
            .join(','),
        showError(show) {
          error.hidden = !show;
          error.textContent = show ? String(e.errorMessage ?? 'Choose an option.') : '';
        },
      });
    }
    return fieldset;
  }
  const select = el('select', 'ac-control');
  select.id = nextId('select');
  if (!e.isRequired || !initial.size) {
    const empty = el('option', '', String(e.placeholder ?? ''));
    empty.value = '';
    select.append(empty);
  }
  for (const c of choices) {
    const option = el('option', '', String(c.title ?? c.value ?? ''));
    option.value = String(c.value ?? '');
    option.selected = initial.has(option.value);
    select.append(option);
  }
  const { wrap, input } = field(e, select);
  if (e.id) ctx.inputs.push(input);
  return wrap;
}

const ELEMENTS = {
  TextBlock: (e) => renderTextBlock(e),
  RichTextBlock: (e) => renderRichText(e),
  Image: (e) => renderImage(e),
  ImageSet: (e) => {
    const set = el('div', 'ac-imageset');
    for (const i of Array.isArray(e.images) ? e.images : []) {
      const img = renderImage({ size: e.imageSize, ...i });
      if (img) set.append(img);
    }
    return set;
  },
  FactSet: (e) => renderFactSet(e),
  Container: (e, ctx) => {
    const box = el('div', 'ac-container');
    if (typeof e.style === 'string') box.classList.add(`ac-style-${e.style.toLowerCase()}`);
    renderItems(e.items, box, ctx);
    return box;
  },
  ColumnSet: (e, ctx) => renderColumnSet(e, ctx),
  ActionSet: (e, ctx) => renderActions(e.actions, ctx),
  'Input.Text': renderTextInput,
  'Input.Number': renderTextInput,
  'Input.Date': renderTextInput,
  'Input.Time': renderTextInput,
  'Input.Toggle': renderToggle,
  'Input.ChoiceSet': renderChoiceSet,
};

function renderElement(e, ctx) {
  if (!e || typeof e !== 'object') return undefined;
  const render = ELEMENTS[e.type];
  if (render) {
    const node = render(e, ctx);
    return node ? common(node, e) : undefined;
  }
  if (e.fallback && typeof e.fallback === 'object') return renderElement(e.fallback, ctx);
  return undefined;
}

function renderItems(items, parent, ctx) {
  for (const item of Array.isArray(items) ? items : []) {
    const node = renderElement(item, ctx);
    if (node) parent.append(node);
  }
}

/** Checks required inputs; returns the values by input id, or undefined (and focuses the first problem). */
function collect(ctx) {
  const values = {};
  let first;
  for (const input of ctx.inputs) {
    const v = input.value();
    const missing = input.required && v === '';
    input.showError(missing);
    if (missing && !first) first = input;
    values[input.id] = v;
  }
  if (first) {
    first.focus();
    return undefined;
  }
  return values;
}

function renderActions(actions, ctx) {
  const bar = el('div', 'ac-actions');
  for (const a of Array.isArray(actions) ? actions : []) {
    if (!a || typeof a !== 'object') continue;
    const button = el('button', 'ac-action', String(a.title ?? ''));
    button.type = 'button';
    if (typeof a.style === 'string') button.classList.add(`ac-action-${a.style.toLowerCase()}`);
    if (a.type === 'Action.Submit' || a.type === 'Action.Execute') {
      const submit = () => {
        const inputs = collect(ctx);
        if (!inputs) return;
        const data = a.data;
        let value;
        if (data === undefined || (typeof data === 'object' && data !== null && !Array.isArray(data))) {
          value = { ...(data ?? {}), ...inputs };
        } else value = data;
        if (
          a.type === 'Action.Execute' &&
          typeof value === 'object' &&
          value.action === undefined &&
          a.verb
        ) {
          value = { ...value, action: a.verb };
        }
        ctx.onSubmit(value, a);
      };
      button.addEventListener('click', submit);
      ctx.defaultSubmit ??= submit;
    } else if (a.type === 'Action.OpenUrl') {
      const href = safeUrl(String(a.url ?? ''));
      if (!href) continue;
      button.addEventListener('click', () => ctx.onOpenUrl(href, a));
      button.setAttribute('aria-description', `opens ${href}`);
    } else if (a.type === 'Action.ShowCard' && a.card && typeof a.card === 'object') {
      const inner = renderCardBody(a.card, ctx);
      inner.hidden = true;
      inner.id = nextId('showcard');
      button.setAttribute('aria-expanded', 'false');
      button.setAttribute('aria-controls', inner.id);
      button.addEventListener('click', () => {
        inner.hidden = !inner.hidden;
        button.setAttribute('aria-expanded', String(!inner.hidden));
      });
      bar.append(button);
      ctx.pendingShowCards.push(inner);
      continue;
    } else continue;
    bar.append(button);
  }
  return bar;
}

function renderCardBody(card, ctx) {
  const body = el('div', 'ac-body');
  renderItems(card.body, body, ctx);
  if (Array.isArray(card.actions) && card.actions.length > 0) body.append(renderActions(card.actions, ctx));
  return body;
}

/**
 * Renders an Adaptive Card.
 * @param {object} card  the card JSON (`type: "AdaptiveCard"`)
 * @param {{onSubmit: (value: unknown, action: object) => void, onOpenUrl?: (url: string) => void}} options
 * @returns {HTMLElement}
 */
export function renderAdaptiveCard(card, options) {
  const root = el('div', 'ac-card');
  root.setAttribute('role', 'group');
  root.setAttribute('aria-label', typeof card?.speak === 'string' ? card.speak : 'Card');
  if (!card || typeof card !== 'object' || card.type !== 'AdaptiveCard') {
    root.append(renderMarkdown(String(card?.fallbackText ?? 'This card cannot be shown.')));
    return root;
  }
  const ctx = {
    inputs: [],
    pendingShowCards: [],
    defaultSubmit: undefined,
    onSubmit: options.onSubmit,
    onOpenUrl: options.onOpenUrl ?? ((url) => window.open(url, '_blank', 'noopener,noreferrer')),
  };
  root.append(renderCardBody(card, ctx));
  for (const shown of ctx.pendingShowCards) root.append(shown);
  return root;
}

import { describe, expect, it } from 'vitest';
import { downgradeToText, escapeMarkdownV2, escapeSlack, renderModel, splitText } from '../src/index.js';
import { markdownV2Problem } from './fakes/telegram.js';

describe('MarkdownV2 escaping', () => {
  it('escapes each character the Bot API reserves, and the backslash', () => {
    for (const c of [
      '_',
      '*',
      '[',
      ']',
      '(',
      ')',
      '~',
      '`',
      '>',
      '#',
      '+',
      '-',
      '=',
      '|',
      '{',
      '}',
      '.',
      '!',
      '\\',
    ]) {
      expect(escapeMarkdownV2(`a${c}b`)).toBe(`a\\${c}b`);
      expect(markdownV2Problem(escapeMarkdownV2(`a${c}b`))).toBeUndefined();
    }
  });

  it('leaves other characters alone, emoji and non-Latin text included', () => {
    expect(escapeMarkdownV2('Grüße, 東京 👋 @ada & $5 % ; : ? / \' "')).toBe(
      'Grüße, 東京 👋 @ada & $5 % ; : ? / \' "',
    );
  });

  it('produces text the fake Bot API parser accepts for any printable ASCII', () => {
    let all = '';
    for (let i = 32; i < 127; i++) all += String.fromCharCode(i);
    expect(markdownV2Problem(all)).toBeDefined();
    expect(markdownV2Problem(escapeMarkdownV2(all))).toBeUndefined();
  });
});

describe('Slack escaping', () => {
  it('turns &, < and > into entities, & first', () => {
    expect(escapeSlack('<@U1> & <!channel> &amp;')).toBe('&lt;@U1&gt; &amp; &lt;!channel&gt; &amp;amp;');
  });
});

describe('text downgrade of cards', () => {
  it('writes title, text, image and buttons as numbered options', () => {
    const m = renderModel({
      id: 'x',
      card: {
        title: 'Trip',
        text: 'Choose',
        image: 'https://x.test/i.png',
        buttons: ['Beach', { title: 'Docs', url: 'https://x.test/d' }],
      },
    });
    expect(downgradeToText(m)).toBe(
      'Trip\n\nChoose\n\nhttps://x.test/i.png\n\n1. Beach\n2. Docs: https://x.test/d',
    );
  });

  it('reads an Adaptive Card: heading as title, blocks and facts as text, submit/open-url/choices as buttons', () => {
    const m = renderModel({
      id: 'x',
      text: 'Intro',
      card: {
        type: 'AdaptiveCard',
        body: [
          { type: 'TextBlock', text: 'Weather', size: 'Large' },
          { type: 'Container', items: [{ type: 'TextBlock', text: 'Sunny' }] },
          {
            type: 'ColumnSet',
            columns: [
              { items: [{ type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: '21 ' }, '°C'] }] },
            ],
          },
          { type: 'FactSet', facts: [{ title: 'Wind', value: '5 km/h' }] },
          { type: 'Input.ChoiceSet', choices: [{ title: 'Celsius', value: 'c' }] },
          { type: 'ActionSet', actions: [{ type: 'Action.Submit', title: 'Refresh', data: 'refresh' }] },
        ],
        actions: [
          { type: 'Action.Execute', title: 'Book', verb: 'book' },
          { type: 'Action.OpenUrl', title: 'Map', url: 'https://x.test/map' },
          {
            type: 'Action.ShowCard',
            title: 'More',
            card: { type: 'AdaptiveCard', body: [{ type: 'TextBlock', text: 'Hidden' }] },
          },
        ],
      },
    });
    expect(m.title).toBe('Weather');
    expect(m.text).toBe('Intro\n\nSunny\n\n21 °C\n\nWind: 5 km/h\n\nHidden');
    expect(m.buttons).toEqual([
      { title: 'Celsius', value: 'c' },
      { title: 'Refresh', value: 'refresh' },
      { title: 'Book', value: 'book' },
      { title: 'Map', url: 'https://x.test/map' },
    ]);
    expect(m.adaptiveCard).toBeDefined();
  });

  it('reads buttons and title from the payload when there is no card', () => {
    const m = renderModel({
      id: 'x',
      text: 'Q',
      payload: { title: 'T', buttons: [{ label: 'Yes', id: 'y' }, 'No', 7] },
    });
    expect(m).toMatchObject({
      title: 'T',
      text: 'Q',
      buttons: [
        { title: 'Yes', value: 'y' },
        { title: 'No', value: 'No' },
      ],
    });
  });
});

describe('splitText', () => {
  it('prefers paragraph, line and word boundaries', () => {
    expect(splitText('aaaa bbbb\n\ncccc', 10)).toEqual(['aaaa bbbb', 'cccc']);
    expect(splitText('aaaa bbbb cccc', 10)).toEqual(['aaaa bbbb', 'cccc']);
  });

  it('cuts hard when there is no boundary, never inside a surrogate pair', () => {
    const parts = splitText('x'.repeat(9) + '😀'.repeat(3), 10);
    expect(parts.join('')).toBe('x'.repeat(9) + '😀'.repeat(3));
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(10);
    expect(parts[0]).toBe('x'.repeat(9));
  });
});

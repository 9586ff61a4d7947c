// The WebChat page: a transcript, a message box, and the Direct Line connection behind them.
import { renderAdaptiveCard } from './adaptive-cards.js';
import { DirectLineClient } from './directline-client.js';
import { renderMarkdown } from './markdown.js';

const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';
const STATUS_TEXT = {
  connecting: 'Connecting…',
  online: 'Connected',
  polling: 'Connected',
  reconnecting: 'Reconnecting…',
  expired: 'Your session has expired. Reload the page to start again.',
  ended: 'This conversation has ended. Reload the page to start again.',
  failed: 'Could not connect. Reload the page to try again.',
};

const $ = (id) => document.getElementById(id);
const transcript = $('gt-transcript');
const form = $('gt-composer');
const input = $('gt-input');
const send = $('gt-send');
const status = $('gt-status');
const seen = new Set();
let client;
let botName = 'Bot';
let focusedOnce = false;

function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `c-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

function setStatus(s) {
  status.textContent = STATUS_TEXT[s] ?? s;
  status.dataset.state = s;
  const usable = s === 'online' || s === 'polling' || s === 'reconnecting';
  input.disabled = !usable;
  send.disabled = !usable;
  document.body.dataset.connection = s;
  if (usable && !focusedOnce) {
    // Ready to type: put the cursor in the message box once (not again on reconnects, which would steal focus).
    focusedOnce = true;
    input.focus();
  }
}

function scrollDown() {
  transcript.scrollTop = transcript.scrollHeight;
}

function messageItem(role, who) {
  const li = document.createElement('li');
  li.className = `gt-msg gt-from-${role}`;
  const label = document.createElement('span');
  label.className = 'gt-visually-hidden';
  label.textContent = `${who} said:`;
  const bubble = document.createElement('div');
  bubble.className = 'gt-bubble';
  li.append(label, bubble);
  return { li, bubble };
}

function renderAttachment(a, container) {
  if (a.contentType === ADAPTIVE_CARD && a.content) {
    container.append(
      renderAdaptiveCard(a.content, { onSubmit: (value, action) => submitCard(value, action) }),
    );
  } else if (typeof a.contentType === 'string' && a.contentType.startsWith('image/') && a.contentUrl) {
    const img = document.createElement('img');
    img.className = 'gt-image';
    img.src = a.contentUrl;
    img.alt = a.name ?? '';
    container.append(img);
  } else if (a.contentUrl) {
    const link = document.createElement('a');
    link.href = a.contentUrl;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    link.textContent = a.name ?? a.contentUrl;
    container.append(link);
  }
}

function addActivity(activity) {
  if (!activity?.id || seen.has(activity.id)) return;
  seen.add(activity.id);
  if (activity.type !== 'message') return;
  const fromUser = activity.from?.role === 'user' || (client?.userId && activity.from?.id === client.userId);
  if (fromUser) {
    const clientId = activity.channelData?.clientActivityID;
    const pending = clientId ? transcript.querySelector(`[data-client-id="${CSS.escape(clientId)}"]`) : null;
    if (pending) {
      pending.classList.remove('gt-pending', 'gt-failed');
      pending.dataset.activityId = activity.id;
      pending.querySelector('.gt-retry')?.remove();
      return;
    }
    if (!activity.text) return; // card submits are not shown as messages
  }
  const { li, bubble } = messageItem(fromUser ? 'user' : 'bot', fromUser ? 'You' : botName);
  li.dataset.activityId = activity.id;
  if (activity.text) bubble.append(renderMarkdown(activity.text));
  for (const a of activity.attachments ?? []) renderAttachment(a, bubble);
  transcript.append(li);
  scrollDown();
}

async function post(activity, pendingItem) {
  try {
    await client.post(activity);
  } catch (e) {
    if (!pendingItem) {
      setStatus(e?.status === 403 ? 'expired' : 'failed');
      return;
    }
    pendingItem.classList.add('gt-failed');
    if (!pendingItem.querySelector('.gt-retry')) {
      const retry = document.createElement('button');
      retry.type = 'button';
      retry.className = 'gt-retry';
      retry.textContent = 'Not sent. Retry';
      retry.addEventListener('click', () => {
        retry.remove();
        pendingItem.classList.remove('gt-failed');
        void post(activity, pendingItem);
      });
      pendingItem.append(retry);
    }
  }
}

function sendText(text) {
  const clientActivityID = newClientId();
  const { li, bubble } = messageItem('user', 'You');
  li.classList.add('gt-pending');
  li.dataset.clientId = clientActivityID;
  bubble.append(renderMarkdown(text));
  transcript.append(li);
  scrollDown();
  void post({ type: 'message', text, locale: navigator.language, channelData: { clientActivityID } }, li);
}

function submitCard(value) {
  void post({
    type: 'message',
    value,
    locale: navigator.language,
    channelData: { clientActivityID: newClientId() },
  });
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = input.value.trim();
  if (!text || input.disabled) return;
  input.value = '';
  sendText(text);
  input.focus();
});

async function main() {
  setStatus('connecting');
  const res = await fetch('config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
  const config = await res.json();
  botName = config.botName ?? botName;
  if (config.title) {
    document.title = config.title;
    $('gt-title').textContent = config.title;
  }
  client = new DirectLineClient({
    domain: config.directLine,
    tokenUrl: config.tokenUrl,
    onActivities: (activities) => activities.forEach(addActivity),
    onStatus: setStatus,
  });
  // Tests and embedders can reach the connection.
  window.greenticWebChat = { client, transcript };
  await client.start();
}

main().catch((e) => {
  console.error(e);
  setStatus('failed');
});

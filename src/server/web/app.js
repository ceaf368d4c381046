// The chat page: sends the conversation to /v1/chat/completions with stream: true, reads the
// server-sent events as they arrive, and keeps the conversation and settings in localStorage so
// a reload shows them again. Plain browser JavaScript, no build step.
'use strict';

const STORE_CONVERSATION = 'rwkv-chat.conversation';
const STORE_SETTINGS = 'rwkv-chat.settings';
const SETTING_IDS = [
  'system',
  'temperature',
  'top_p',
  'max_tokens',
  'presence_penalty',
  'frequency_penalty',
  'seed',
  'api_key',
];

const $ = (id) => document.getElementById(id);
const ui = {
  messages: $('messages'),
  emptyHint: $('empty-hint'),
  status: $('status'),
  form: $('composer'),
  prompt: $('prompt'),
  send: $('send'),
  stop: $('stop'),
  newChat: $('new-chat'),
  modelName: $('model-name'),
};

/** @type {{role: 'user'|'assistant', content: string, note?: string}[]} */
let conversation = loadJson(STORE_CONVERSATION, []);
let model = '';
/** The AbortController of the reply being streamed, or null. */
let running = null;

function loadJson(key, fallback) {
  try {
    const value = JSON.parse(localStorage.getItem(key) ?? 'null');
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

function saveConversation() {
  localStorage.setItem(STORE_CONVERSATION, JSON.stringify(conversation));
}

function saveSettings() {
  const values = {};
  for (const id of SETTING_IDS) values[id] = $(id).value;
  localStorage.setItem(STORE_SETTINGS, JSON.stringify(values));
}

function restoreSettings() {
  const values = loadJson(STORE_SETTINGS, {});
  for (const id of SETTING_IDS) if (typeof values[id] === 'string') $(id).value = values[id];
}

/** Appends one message to the list; returns the element holding its text. */
function renderMessage(message) {
  const item = document.createElement('li');
  item.className = `msg ${message.role}`;
  const role = document.createElement('span');
  role.className = 'role';
  role.textContent = message.role === 'user' ? 'You' : 'Assistant';
  const content = document.createElement('div');
  content.className = 'content';
  content.textContent = message.content;
  item.append(role, content);
  if (message.note) item.append(noteElement(message.note));
  ui.messages.append(item);
  ui.emptyHint.hidden = true;
  return { item, content };
}

function noteElement(text) {
  const note = document.createElement('div');
  note.className = 'note';
  note.textContent = text;
  return note;
}

function renderAll() {
  ui.messages.replaceChildren();
  ui.emptyHint.hidden = conversation.length > 0;
  for (const message of conversation) renderMessage(message);
}

function setStatus(text) {
  ui.status.textContent = text;
}

function setRunning(controller) {
  running = controller;
  ui.send.disabled = controller !== null;
  ui.stop.disabled = controller === null;
}

function numberSetting(id) {
  const raw = $(id).value.trim();
  if (raw === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

function requestBody() {
  const messages = [];
  const system = $('system').value.trim();
  if (system) messages.push({ role: 'system', content: system });
  for (const m of conversation) if (m.content) messages.push({ role: m.role, content: m.content });
  const body = { model, messages, stream: true, stream_options: { include_usage: true } };
  for (const id of ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty']) {
    const value = numberSetting(id);
    if (value !== undefined) body[id] = value;
  }
  const maxTokens = numberSetting('max_tokens');
  if (maxTokens !== undefined) body.max_tokens = Math.round(maxTokens);
  const seed = numberSetting('seed');
  if (seed !== undefined) body.seed = Math.round(seed);
  return body;
}

function headers() {
  const h = { 'content-type': 'application/json' };
  const key = $('api_key').value.trim();
  if (key) h.authorization = `Bearer ${key}`;
  return h;
}

/** Yields the JSON payload of each "data:" event of an SSE response body until [DONE]. */
async function* readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') return;
        yield JSON.parse(data);
      }
    }
  }
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    return body.error?.message ?? `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

async function send(text) {
  conversation.push({ role: 'user', content: text });
  renderMessage(conversation[conversation.length - 1]);
  const reply = { role: 'assistant', content: '' };
  conversation.push(reply);
  saveConversation();
  const { item, content } = renderMessage(reply);
  // Screen readers announce the reply once it is complete, not every streamed token.
  item.setAttribute('aria-live', 'polite');
  item.setAttribute('aria-busy', 'true');

  // One text node grows as pieces arrive (no re-render of the whole reply per piece).
  const textNode = document.createTextNode('');
  content.replaceChildren(textNode);
  // Keep the reply in view while it grows, unless the reader scrolled away.
  const following = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;

  const controller = new AbortController();
  setRunning(controller);
  setStatus('Generating…');
  let finish = '';
  try {
    await modelReady;
    const response = await fetch('/v1/chat/completions', {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify(requestBody()),
      signal: controller.signal,
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    for await (const event of readEvents(response)) {
      if (event.error) throw new Error(event.error.message);
      const choice = event.choices?.[0];
      if (!choice) continue;
      if (choice.delta?.content) {
        reply.content += choice.delta.content;
        textNode.appendData(choice.delta.content);
        if (following) item.scrollIntoView({ block: 'end' });
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    setStatus(finish === 'length' ? 'Reply cut at the max tokens setting.' : 'Done.');
  } catch (err) {
    if (controller.signal.aborted) {
      reply.note = 'Stopped.';
      setStatus('Stopped.');
    } else {
      reply.note = `Error: ${err.message}`;
      setStatus(`Error: ${err.message}`);
    }
    item.append(noteElement(reply.note));
  } finally {
    item.setAttribute('aria-busy', 'false');
    saveConversation();
    setRunning(null);
    ui.prompt.focus();
  }
}

function stop() {
  if (running) running.abort();
}

ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = ui.prompt.value.trim();
  if (!text || running) return;
  ui.prompt.value = '';
  void send(text);
});

ui.prompt.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.form.requestSubmit();
  }
});

document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && running) stop();
});

ui.stop.addEventListener('click', stop);

ui.newChat.addEventListener('click', () => {
  stop();
  conversation = [];
  saveConversation();
  renderAll();
  setStatus('New chat.');
  ui.prompt.focus();
});

for (const id of SETTING_IDS) $(id).addEventListener('change', saveSettings);

async function loadModelName() {
  try {
    const response = await fetch('/v1/models', { headers: headers() });
    if (!response.ok) throw new Error(await errorMessage(response));
    const list = await response.json();
    model = list.data[0].id;
    ui.modelName.textContent = model;
  } catch (err) {
    setStatus(`Could not list models: ${err.message}`);
  }
}

restoreSettings();
renderAll();
let modelReady = loadModelName();
// A key typed after the page loaded: list the models again with it.
$('api_key').addEventListener('change', () => (modelReady = loadModelName()));
ui.prompt.focus();

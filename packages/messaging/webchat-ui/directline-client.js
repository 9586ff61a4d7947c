// A small Direct Line 3.0 client for the WebChat page: gets a token from the page's token route (or reuses the
// tab's conversation after a reload), starts the conversation, receives activities over the WebSocket `streamUrl`
// (reconnecting with a fresh streamUrl when it closes) and falls back to polling when WebSockets do not work.
// Tokens are refreshed at half their lifetime.

const STORAGE_KEY = 'greentic.webchat.session';

/** Thrown for an HTTP answer that is not 2xx; `status` and the Direct Line error `code` are kept. */
export class DirectLineHttpError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class DirectLineClient {
  /**
   * @param {object} options
   * @param {string} options.domain        Direct Line base, e.g. `/v3/directline`
   * @param {string} options.tokenUrl      the page's token route (POST → {conversationId, token, expires_in, userId})
   * @param {(activities: object[]) => void} options.onActivities
   * @param {(status: string) => void} [options.onStatus]  connecting | online | polling | reconnecting | expired | ended | failed
   * @param {Storage} [options.storage]    where the tab keeps its conversation (default sessionStorage)
   * @param {number} [options.pollIntervalMs]
   */
  constructor(options) {
    this.domain = options.domain.replace(/\/+$/, '');
    this.tokenUrl = options.tokenUrl;
    this.onActivities = options.onActivities;
    this.onStatus = options.onStatus ?? (() => {});
    this.storage = options.storage ?? safeSessionStorage();
    // One conversation per chat endpoint: pages of several tenants may share an origin.
    this.storageKey = `${STORAGE_KEY}:${this.tokenUrl}`;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.watermark = undefined;
    this.session = undefined;
    this.socket = undefined;
    this.mode = 'websocket';
    this.wsFailures = 0;
    this.stopped = false;
    this.refreshTimer = undefined;
    this.status = 'connecting';
  }

  get userId() {
    return this.session?.userId;
  }

  get conversationId() {
    return this.session?.conversationId;
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.onStatus(status);
  }

  async start() {
    this.setStatus('connecting');
    this.session = await this.resume();
    if (!this.session) {
      const minted = await this.request('POST', this.tokenUrl, undefined, false);
      this.session = { conversationId: minted.conversationId, token: minted.token, userId: minted.userId };
      this.scheduleRefresh(minted.expires_in);
    }
    const conversation = await this.request('POST', `${this.domain}/conversations`);
    this.session.conversationId = conversation.conversationId;
    this.save();
    if (typeof WebSocket === 'function' && conversation.streamUrl) this.connect(conversation.streamUrl);
    else this.startPolling();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.refreshTimer);
    clearTimeout(this.pollTimer);
    if (this.socket) this.socket.close();
  }

  /** Posts an activity; resolves with its id. */
  async post(activity) {
    const body = { ...activity, from: { id: this.userId ?? 'user', role: 'user' } };
    const url = `${this.domain}/conversations/${encodeURIComponent(this.session.conversationId)}/activities`;
    try {
      return (await this.request('POST', url, body)).id;
    } catch (e) {
      if (e instanceof DirectLineHttpError && e.status === 403 && (await this.refresh())) {
        return (await this.request('POST', url, body)).id;
      }
      throw e;
    }
  }

  /** Continues the tab's earlier conversation when its token can still be refreshed. */
  async resume() {
    let saved;
    try {
      saved = JSON.parse(this.storage?.getItem(this.storageKey) ?? 'null');
    } catch {
      saved = null;
    }
    if (!saved?.token || !saved.conversationId) return undefined;
    this.session = saved;
    if (await this.refresh()) return this.session;
    this.session = undefined;
    this.storage?.removeItem(this.storageKey);
    return undefined;
  }

  save() {
    try {
      this.storage?.setItem(this.storageKey, JSON.stringify(this.session));
    } catch {
      // Storage may be unavailable (private mode, sandboxed iframe): the conversation then ends with the tab.
    }
  }

  async refresh() {
    try {
      const r = await this.request('POST', `${this.domain}/tokens/refresh`);
      this.session.token = r.token;
      this.save();
      this.scheduleRefresh(r.expires_in);
      return true;
    } catch {
      return false;
    }
  }

  scheduleRefresh(expiresInSec) {
    clearTimeout(this.refreshTimer);
    if (!expiresInSec || this.stopped) return;
    this.refreshTimer = setTimeout(
      async () => {
        if (!(await this.refresh())) this.setStatus('expired');
      },
      Math.max(5, expiresInSec / 2) * 1000,
    );
  }

  deliver(group) {
    if (!group || !Array.isArray(group.activities)) return;
    if (group.watermark !== undefined && group.watermark !== null) this.watermark = String(group.watermark);
    if (group.activities.length > 0) this.onActivities(group.activities);
  }

  connect(streamUrl) {
    if (this.stopped) return;
    let opened = false;
    const ws = new WebSocket(streamUrl);
    this.socket = ws;
    ws.onopen = () => {
      opened = true;
      this.wsFailures = 0;
      this.setStatus('online');
    };
    ws.onmessage = (event) => {
      if (typeof event.data !== 'string' || event.data === '') return;
      try {
        this.deliver(JSON.parse(event.data));
      } catch {
        // A frame that is not JSON is ignored.
      }
    };
    ws.onclose = () => {
      if (this.socket !== ws || this.stopped) return;
      this.socket = undefined;
      if (!opened) this.wsFailures += 1;
      if (this.wsFailures >= 2) {
        this.startPolling();
        return;
      }
      this.setStatus('reconnecting');
      setTimeout(() => this.reconnect(), opened ? 500 : 1500);
    };
  }

  /** Asks for a new streamUrl (the old one may have expired) and reconnects; polls when that fails. */
  async reconnect() {
    if (this.stopped) return;
    try {
      const id = encodeURIComponent(this.session.conversationId);
      const wm = encodeURIComponent(this.watermark ?? '');
      let r;
      try {
        r = await this.request('GET', `${this.domain}/conversations/${id}?watermark=${wm}`);
      } catch (e) {
        if (!(e instanceof DirectLineHttpError && e.status === 403 && (await this.refresh()))) throw e;
        r = await this.request('GET', `${this.domain}/conversations/${id}?watermark=${wm}`);
      }
      if (r.streamUrl) this.connect(r.streamUrl);
      else this.startPolling();
    } catch (e) {
      if (e instanceof DirectLineHttpError && e.status === 404) this.setStatus('ended');
      else if (e instanceof DirectLineHttpError && e.status === 403) this.setStatus('expired');
      else this.startPolling();
    }
  }

  startPolling() {
    if (this.stopped || this.mode === 'polling') return;
    this.mode = 'polling';
    this.setStatus('polling');
    const tick = async () => {
      if (this.stopped) return;
      const id = encodeURIComponent(this.session.conversationId);
      const wm = encodeURIComponent(this.watermark ?? '');
      try {
        this.deliver(
          await this.request('GET', `${this.domain}/conversations/${id}/activities?watermark=${wm}`),
        );
        this.setStatus('polling');
      } catch (e) {
        if (e instanceof DirectLineHttpError && e.status === 404) {
          this.setStatus('ended');
          return;
        }
        if (e instanceof DirectLineHttpError && e.status === 403 && !(await this.refresh())) {
          this.setStatus('expired');
          return;
        }
      }
      this.pollTimer = setTimeout(tick, this.pollIntervalMs);
    };
    void tick();
  }

  async request(method, url, body, withToken = true) {
    const headers = { Accept: 'application/json' };
    if (withToken) headers.Authorization = `Bearer ${this.session.token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'same-origin',
    });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = {};
    }
    if (!res.ok) {
      throw new DirectLineHttpError(
        res.status,
        json?.error?.code,
        json?.error?.message ?? `${method} ${url}: HTTP ${res.status}`,
      );
    }
    return json;
  }
}

function safeSessionStorage() {
  try {
    return globalThis.sessionStorage;
  } catch {
    return undefined;
  }
}

// The public waitpoints API, as the documented routes and the planned operator routes describe it.
// Same origin only (the page's Content-Security-Policy allows nothing else but the WebSocket API's URL, when the
// server names it); the key goes in a bearer header, and over the WebSocket in the first message (never the URL).

export const TOKENS = "api/v1/waitpoints/tokens";
const OPENAPI = "api/v1/openapi.json";
const TOKENS_PATH = "/" + TOKENS;

/** The route each action needs, as the OpenAPI document names it. */
export const ACTION_ROUTES = {
  complete: `post ${TOKENS_PATH}/{id}/complete`,
  reject: `post ${TOKENS_PATH}/{id}/reject`,
  timeout: `post ${TOKENS_PATH}/{id}/timeout`,
  extend: `post ${TOKENS_PATH}/{id}/extend`,
};

export class ApiError extends Error {
  /**
   * status 0: the server could not be reached.
   * notAvailable: the route does not exist on this server (405, or a 404 that is the gateway's, not the API's
   * `{"error": "Waitpoint not found"}`): a server from before that route.
   */
  constructor(status, message, notAvailable = false) {
    super(message);
    this.status = status;
    this.notAvailable = notAvailable;
  }
}

function url(path, query) {
  const target = new URL(path, document.baseURI);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") target.searchParams.set(name, String(value));
  }
  return target;
}

async function send(path, { method = "GET", key, query, body } = {}) {
  const headers = { Accept: "application/json" };
  if (key) {
    headers.Authorization = `Bearer ${key}`;
    headers["X-Waitpoints-Door"] = "console"; // the audit record says the console did it (with this key's id)
  }
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      redirect: "error",
      referrerPolicy: "no-referrer",
    });
  } catch {
    throw new ApiError(0, "The server could not be reached. Is the stack running?");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (response.ok) return data;
  const apiMessage = data && typeof data.error === "string" ? data.error : null;
  const notAvailable = response.status === 405 || (response.status === 404 && apiMessage === null);
  const message = apiMessage ?? (data && typeof data.message === "string" ? data.message : `HTTP ${response.status}`);
  throw new ApiError(response.status, message, notAvailable);
}

const tokenPath = (id, action) => `${TOKENS}/${encodeURIComponent(id)}${action ? "/" + action : ""}`;

export class Api {
  constructor(key) {
    this.key = key;
  }

  /** The environment a secret key belongs to: wp_<env>_<random>. */
  get environment() {
    const match = /^wp_([a-z0-9-]{1,32})_/.exec(this.key);
    return match ? match[1] : null;
  }

  list(query) {
    return send(TOKENS, { key: this.key, query });
  }

  retrieve(id) {
    return send(tokenPath(id), { key: this.key });
  }

  /** hasData false completes with no output (`{}`). */
  complete(id, data, hasData = true) {
    return send(tokenPath(id, "complete"), { method: "POST", key: this.key, body: hasData ? { data } : {} });
  }

  reject(id, reason) {
    return send(tokenPath(id, "reject"), { method: "POST", key: this.key, body: reason ? { reason } : {} });
  }

  forceTimeout(id) {
    return send(tokenPath(id, "timeout"), { method: "POST", key: this.key, body: {} });
  }

  extend(id, timeout) {
    return send(tokenPath(id, "extend"), { method: "POST", key: this.key, body: { timeout } });
  }

  /** "method path" of every route in the server's OpenAPI document (no key needed), or null if unknown. */
  static async routes() {
    try {
      const document = await send(OPENAPI);
      const routes = new Set();
      for (const [path, operations] of Object.entries(document?.paths ?? {})) {
        for (const method of Object.keys(operations)) routes.add(`${method.toLowerCase()} ${path}`);
      }
      return routes;
    } catch {
      return null;
    }
  }
}

/** The WebSocket API's URL, when the server put it in the page (<meta name="waitpoints-ws-url">), else null. */
export function websocketUrl() {
  const value = document.querySelector('meta[name="waitpoints-ws-url"]')?.content ?? "";
  return /^wss?:\/\//.test(value) ? value : null;
}

/**
 * Watch one token over the WebSocket API (docs/realtime.md): authenticate with the first message, subscribe to
 * the token, and call onChange(transition, token) for each transition. Returns a function that stops watching.
 * The subscription's answer (the token's state now) is not passed on: the page has just read it.
 */
export function watchToken(wsUrl, key, id, onChange) {
  let socket;
  try {
    socket = new WebSocket(wsUrl);
  } catch {
    return () => {};
  }
  socket.addEventListener("open", () => {
    socket.send(JSON.stringify({ action: "auth", token: key }));
    socket.send(JSON.stringify({ action: "subscribe", tokenId: id }));
  });
  socket.addEventListener("message", (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (message?.type === "transition" && message.token?.id === id) onChange(message.transition, message.token, Boolean(message.outputOmitted));
  });
  return () => socket.close();
}
